package org.mkdt.bench;

import java.util.concurrent.TimeUnit;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.Tensor;
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
 * SGEMM on the CPU backend, kernel only (operands allocated in setup, C reused). JMH reports
 * seconds per product; GFLOP/s = 2 n^3 / that / 1e9 (README, "Benchmarks", shows the sum).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx6g"})
public class GemmBenchmark {
    @Param({"256", "512", "1024"})
    int n;

    private GemmBench gemm;

    @Setup
    public void setup() {
        gemm = new GemmBench(CpuBackend.INSTANCE, n);
    }

    @Benchmark
    public Tensor sgemm() {
        return gemm.run();
    }
}
