package org.mkdt.bench;

import java.util.concurrent.TimeUnit;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.backend.cuda.ConvAlgorithm;
import org.mkdt.backend.cuda.CudaBackend;
import org.mkdt.tensor.Tensor;
import org.openjdk.jmh.annotations.*;

/**
 * The MKDT student's 3x3 convolutions at batch 256, forward, data gradient and weight
 * gradient, kernel only, by both algorithms side by side: the implicit GEMM
 * (kernels/conv2d_igemm.cu) and im2col + GEMM (kernels/conv2d.cu + gemm.cu). GFLOP/s counts
 * 2 N Co Ci 9 H W per pass.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class Conv2dCudaBenchmark {
    /**
     * The student's layers (3 -> 128 at 32x32, 128 -> 128 at 16x16 and 8x8), and 128 -> 128 at
     * 32x32, a larger shape than the student has, kept as the largest 128-channel case.
     */
    @Param({"3x32", "128x32", "128x16", "128x8"})
    String layer;

    @Param({"IMPLICIT", "IM2COL"})
    ConvAlgorithm algorithm;

    private CudaBackend cuda;
    private ConvCase c;

    @Setup
    public void setup() {
        cuda = CudaBench.backend();
        cuda.convAlgorithm(algorithm);
        c = new ConvCase(cuda, layer);
    }

    @Benchmark
    public Tensor forward(Rate rate) {
        cuda.conv2d(c.x, c.w, c.bias, ConvGeometry.SAME_3X3, c.y);
        cuda.synchronize();
        rate.gflop += c.gflop;
        return c.y;
    }

    @Benchmark
    public Tensor dataGrad(Rate rate) {
        cuda.conv2dDataGrad(c.dy, c.w, ConvGeometry.SAME_3X3, c.dx);
        cuda.synchronize();
        rate.gflop += c.gflop;
        return c.dx;
    }

    @Benchmark
    public Tensor weightGrad(Rate rate) {
        cuda.conv2dWeightGrad(c.x, c.dy, ConvGeometry.SAME_3X3, c.dw);
        cuda.synchronize();
        rate.gflop += c.gflop;
        return c.dw;
    }
}
