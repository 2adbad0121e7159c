package org.mkdt.bench;

import java.util.concurrent.TimeUnit;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.backend.cuda.CudaBackend;
import org.mkdt.tensor.Tensor;
import org.openjdk.jmh.annotations.*;

/**
 * kernels/conv2d.cu (+ gemm.cu): the MKDT student's 3x3 convolutions at batch 256, forward,
 * data gradient and weight gradient, kernel only. GFLOP/s counts 2 N Co Ci 9 H W per pass.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class Conv2dCudaBenchmark {
    /** The student's layers: 3 -> 128 at 32x32, 128 -> 128 at 32x32, 16x16 and 8x8. */
    @Param({"3x32", "128x32", "128x16", "128x8"})
    String layer;

    private CudaBackend cuda;
    private Tensor x, w, bias, y, dy, dx, dw;
    private double gflop;

    @Setup
    public void setup() {
        cuda = CudaBench.backend();
        int ci = Integer.parseInt(layer.split("x")[0]), hw = Integer.parseInt(layer.split("x")[1]);
        int n = 256, co = 128;
        x = CudaBench.random(cuda, 1, n, ci, hw, hw);
        w = CudaBench.random(cuda, 2, co, ci, 3, 3);
        bias = CudaBench.random(cuda, 3, co);
        dy = CudaBench.random(cuda, 4, n, co, hw, hw);
        y = CudaBench.zeros(cuda, n, co, hw, hw);
        dx = CudaBench.zeros(cuda, n, ci, hw, hw);
        dw = CudaBench.zeros(cuda, co, ci, 3, 3);
        gflop = 2.0 * n * co * ci * 9 * hw * hw / 1e9;
    }

    @Benchmark
    public Tensor forward(Rate rate) {
        cuda.conv2d(x, w, bias, ConvGeometry.SAME_3X3, y);
        cuda.synchronize();
        rate.gflop += gflop;
        return y;
    }

    @Benchmark
    public Tensor dataGrad(Rate rate) {
        cuda.conv2dDataGrad(dy, w, ConvGeometry.SAME_3X3, dx);
        cuda.synchronize();
        rate.gflop += gflop;
        return dx;
    }

    @Benchmark
    public Tensor weightGrad(Rate rate) {
        cuda.conv2dWeightGrad(x, dy, ConvGeometry.SAME_3X3, dw);
        cuda.synchronize();
        rate.gflop += gflop;
        return dw;
    }
}
