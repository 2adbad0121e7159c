package org.mkdt.bench;

import java.util.concurrent.TimeUnit;
import org.mkdt.backend.cuda.CudaBackend;
import org.openjdk.jmh.annotations.*;

/**
 * One MKDT student training step on CUDA (forward, MSE, backward to the flat parameters; the
 * loss is read back, which synchronises) at batch 256, 3x32x32, width 128, D = 512: the
 * CPU's StudentStepBenchmark on the GPU, end to end through the autodiff engine.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class StudentStepCudaBenchmark {
    @Param({"256"})
    int batch;

    private StudentStep step;

    @Setup
    public void setup() {
        CudaBackend cuda = CudaBench.backend();
        step = new StudentStep(cuda, batch, 3, 128, 512);
    }

    @Benchmark
    public double trainingStep(Rate rate) {
        rate.images += batch;
        return step.run();
    }
}
