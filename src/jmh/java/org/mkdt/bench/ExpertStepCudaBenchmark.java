package org.mkdt.bench;

import java.util.concurrent.TimeUnit;
import org.mkdt.backend.cuda.CudaBackend;
import org.openjdk.jmh.annotations.*;

/**
 * Expert training on CUDA as {@code experts --batch-students S} runs it: S students each taking
 * full SGD steps (forward, MSE, backward, fused momentum update) on batch 256, 3x32x32, width
 * 128, D = 512; 10 steps per invocation with one read-back at the end. The images/s counter
 * compares with torch_reference.py expert (one student) and shows what batching buys.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class ExpertStepCudaBenchmark {
    private static final int STEPS = 10;

    @Param({"1", "4", "8"})
    int students;

    @Param({"256"})
    int batch;

    private ExpertStepBench bench;

    @Setup
    public void setup() {
        CudaBackend cuda = CudaBench.backend();
        bench = new ExpertStepBench(cuda, students, batch, 128, 512);
    }

    @Benchmark
    public double trainingSteps(Rate rate) {
        rate.images += bench.images(STEPS);
        return bench.run(STEPS);
    }
}
