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
    private ConvCase c;

    @Setup
    public void setup() {
        c = new ConvCase(cpu, layer);
    }

    @Benchmark
    public Tensor forward(Rate rate) {
        cpu.conv2d(c.x, c.w, c.bias, ConvGeometry.SAME_3X3, c.y);
        rate.gflop += c.gflop;
        return c.y;
    }

    @Benchmark
    public Tensor dataGrad(Rate rate) {
        cpu.conv2dDataGrad(c.dy, c.w, ConvGeometry.SAME_3X3, c.dx);
        rate.gflop += c.gflop;
        return c.dx;
    }

    @Benchmark
    public Tensor weightGrad(Rate rate) {
        cpu.conv2dWeightGrad(c.x, c.dy, ConvGeometry.SAME_3X3, c.dw);
        rate.gflop += c.gflop;
        return c.dw;
    }
}
