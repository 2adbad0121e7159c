package org.mkdt.bench;

import java.util.concurrent.TimeUnit;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.Tensor;
import org.openjdk.jmh.annotations.*;

/**
 * The CPU backend's convolutions at the MKDT student's three layers, batch 256: forward, data
 * gradient and weight gradient, kernel only, beside {@link GemmBenchmark} in the same run (the
 * issue's bar: each at least 70% of SGEMM's GFLOP/s). GFLOP/s counts the direct convolution's
 * 2 N Co Ci 9 H W per pass, whatever the algorithm: Winograd does fewer multiply-adds, so its
 * figure is an effective rate. {@code -jvmArgsAppend -Dmkdt.cpu.winograd=false} measures im2col.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx6g"})
public class Conv2dBenchmark {
    /** The student's layers: 3 -> 128 at 32x32, 128 -> 128 at 16x16 and at 8x8. */
    @Param({"3x32", "128x16", "128x8"})
    String layer;

    private final CpuBackend cpu = CpuBackend.INSTANCE;
    private Tensor x, w, bias, y, dy, dx, dw;
    private double gflop;

    @Setup
    public void setup() {
        int ci = Integer.parseInt(layer.split("x")[0]), hw = Integer.parseInt(layer.split("x")[1]);
        int n = 256, co = 128;
        x = CudaBench.random(cpu, 1, n, ci, hw, hw);
        w = CudaBench.random(cpu, 2, co, ci, 3, 3);
        bias = CudaBench.random(cpu, 3, co);
        dy = CudaBench.random(cpu, 4, n, co, hw, hw);
        y = CudaBench.zeros(cpu, n, co, hw, hw);
        dx = CudaBench.zeros(cpu, n, ci, hw, hw);
        dw = CudaBench.zeros(cpu, co, ci, 3, 3);
        gflop = 2.0 * n * co * ci * 9 * hw * hw / 1e9;
    }

    @Benchmark
    public Tensor forward(Rate rate) {
        cpu.conv2d(x, w, bias, ConvGeometry.SAME_3X3, y);
        rate.gflop += gflop;
        return y;
    }

    @Benchmark
    public Tensor dataGrad(Rate rate) {
        cpu.conv2dDataGrad(dy, w, ConvGeometry.SAME_3X3, dx);
        rate.gflop += gflop;
        return dx;
    }

    @Benchmark
    public Tensor weightGrad(Rate rate) {
        cpu.conv2dWeightGrad(x, dy, ConvGeometry.SAME_3X3, dw);
        rate.gflop += gflop;
        return dw;
    }
}
