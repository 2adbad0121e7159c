package org.mkdt.bench;

import java.util.concurrent.TimeUnit;
import org.mkdt.backend.cpu.CpuBackend;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One MKDT student training step (forward, MSE, backward to the flat parameters; no update)
 * at batch 256, 3x32x32, width 128, D = 512. images/s = batch / (seconds per op).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class StudentStepBenchmark {
    @Param({"256"})
    int batch;

    private StudentStep step;

    @Setup
    public void setup() {
        step = new StudentStep(CpuBackend.INSTANCE, batch, 3, 128, 512);
    }

    @Benchmark
    public double trainingStep() {
        return step.run();
    }
}
