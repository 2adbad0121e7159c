package org.mkdt.bench;

import java.util.concurrent.TimeUnit;
import org.mkdt.backend.BinaryOp;
import org.mkdt.backend.cuda.CudaBackend;
import org.mkdt.tensor.Tensor;
import org.openjdk.jmh.annotations.*;

/**
 * The memory-bound kernel families at the MKDT student's activation size (256 x 128 x 32 x 32
 * = 33.5 M floats), kernel only, in GB/s of bytes read plus written (each input read once, each
 * output written once): elementwise.cu (add; and add with its copies), reduce.cu (the bias
 * gradient's sum over N, H, W), avgpool2.cu, instancenorm.cu (forward, backward, second order)
 * and sgd.cu (one update of the student's 1.35 M parameters).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class MemoryBoundCudaBenchmark {
    private static final int N = 256, C = 128, HW = 32, PARAMS = 1_348_608;
    private CudaBackend cuda;
    private Tensor a, b, out, perChannel, pooled, rstd, xhat, u, theta, grad, buf;
    private float[] ha, hb;
    private double act;

    @Setup
    public void setup() {
        cuda = CudaBench.backend();
        a = CudaBench.random(cuda, 1, N, C, HW, HW);
        b = CudaBench.random(cuda, 2, N, C, HW, HW);
        u = CudaBench.random(cuda, 3, N, C, HW, HW);
        out = CudaBench.zeros(cuda, N, C, HW, HW);
        xhat = CudaBench.zeros(cuda, N, C, HW, HW);
        perChannel = CudaBench.zeros(cuda, 1, C, 1, 1);
        pooled = CudaBench.zeros(cuda, N, C, HW / 2, HW / 2);
        rstd = CudaBench.zeros(cuda, N, C, 1, 1);
        theta = CudaBench.random(cuda, 4, PARAMS);
        grad = CudaBench.random(cuda, 5, PARAMS);
        buf = CudaBench.random(cuda, 6, PARAMS);
        ha = a.toFloatArray();
        hb = b.toFloatArray();
        act = (double) N * C * HW * HW * Float.BYTES / 1e9;
        cuda.instanceNorm(a, 1e-5, xhat, rstd);
    }

    @Benchmark
    public Tensor add(Rate rate) {
        cuda.binary(BinaryOp.ADD, a, b, out);
        cuda.synchronize();
        rate.gbytes += 3 * act;
        return out;
    }

    @Benchmark
    public float[] addWithCopies(Rate rate) {
        cuda.upload(a, ha);
        cuda.upload(b, hb);
        cuda.binary(BinaryOp.ADD, a, b, out);
        rate.gbytes += 3 * act;
        return cuda.downloadFloats(out);
    }

    @Benchmark
    public Tensor biasGradSum(Rate rate) {
        cuda.sum(a, perChannel);
        cuda.synchronize();
        rate.gbytes += act;
        return perChannel;
    }

    @Benchmark
    public Tensor avgPool2(Rate rate) {
        cuda.avgPool2(a, pooled);
        cuda.synchronize();
        rate.gbytes += 1.25 * act;
        return pooled;
    }

    @Benchmark
    public Tensor instanceNorm(Rate rate) {
        cuda.instanceNorm(a, 1e-5, out, rstd);
        cuda.synchronize();
        rate.gbytes += 2 * act;
        return out;
    }

    @Benchmark
    public Tensor instanceNormGrad(Rate rate) {
        cuda.instanceNormGrad(b, xhat, rstd, out);
        cuda.synchronize();
        rate.gbytes += 3 * act;
        return out;
    }

    @Benchmark
    public Tensor instanceNormGradGrad(Rate rate) {
        cuda.instanceNormGradGrad(u, b, xhat, rstd, out);
        cuda.synchronize();
        rate.gbytes += 4 * act;
        return out;
    }

    @Benchmark
    public Tensor sgdStep(Rate rate) {
        cuda.sgdStep(theta, grad, buf, 1e-6, 0.9, 5e-4, false);
        cuda.synchronize();
        rate.gbytes += 5.0 * PARAMS * Float.BYTES / 1e9;
        return theta;
    }
}
