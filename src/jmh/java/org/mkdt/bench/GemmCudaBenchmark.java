package org.mkdt.bench;

import java.util.concurrent.TimeUnit;
import org.mkdt.backend.cuda.CudaBackend;
import org.mkdt.backend.cuda.GemmKernel;
import org.mkdt.tensor.Tensor;
import org.openjdk.jmh.annotations.*;

/**
 * kernels/gemm.cu: SGEMM, kernel only (operands on the device, synchronised inside the timed
 * method), for each version; and the same product with the copies a host caller pays
 * (upload A and B, download C). Shapes: square n, and the student's head and weight gradient.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class GemmCudaBenchmark {
    /** M x N x K. */
    @Param({"1024x1024x1024", "4096x4096x4096", "256x512x2048", "128x1152x262144"})
    String shape;

    @Param({"TILED", "NAIVE"})
    GemmKernel.Version version;

    private CudaBackend cuda;
    private Tensor a, b, c;
    private float[] ha, hb;
    private int m, n, k;

    @Setup
    public void setup() {
        cuda = CudaBench.backend();
        String[] p = shape.split("x");
        m = Integer.parseInt(p[0]);
        n = Integer.parseInt(p[1]);
        k = Integer.parseInt(p[2]);
        a = CudaBench.random(cuda, 1, m, k);
        b = CudaBench.random(cuda, 2, k, n);
        c = CudaBench.zeros(cuda, m, n);
        ha = a.toFloatArray();
        hb = b.toFloatArray();
    }

    @Benchmark
    public Tensor kernel(Rate rate) {
        cuda.gemmKernel().gemm(version, a, false, b, false, c);
        cuda.synchronize();
        rate.gflop += 2.0 * m * n * k / 1e9;
        return c;
    }

    @Benchmark
    public float[] withCopies(Rate rate) {
        cuda.upload(a, ha);
        cuda.upload(b, hb);
        cuda.gemmKernel().gemm(version, a, false, b, false, c);
        rate.gflop += 2.0 * m * n * k / 1e9;
        return cuda.downloadFloats(c);
    }
}
