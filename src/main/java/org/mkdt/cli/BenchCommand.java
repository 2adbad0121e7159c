package org.mkdt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mkdt.backend.Devices;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.backend.cuda.CudaBackend;
import org.mkdt.backend.cpu.Parallel;
import org.mkdt.bench.GemmBench;
import org.mkdt.bench.MetaGradBench;
import org.mkdt.metagrad.MetaGradResult;
import org.mkdt.metagrad.RecomputeMetaGrad;
import org.mkdt.bench.StudentStep;
import org.mkdt.bench.Timing;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Quick benchmarks, comparable line for line with ../shared/bench/numpy_reference.py (same
 * work, same JSON fields, median of repeats). JMH in src/jmh/ measures the same two things
 * carefully.
 */
@Command(name = "bench", description = "Quick benchmarks: cpu (SGEMM, student step), metagrad (one distillation iteration).")
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", description = "Which: ${COMPLETION-CANDIDATES}")
    Which which;

    @Option(names = "--json", description = "One JSON object per measurement, like numpy_reference.py.")
    boolean json;

    @Option(names = "--sizes", split = ",", description = "SGEMM sizes (default: ${DEFAULT-VALUE}).")
    List<Integer> sizes = List.of(256, 512, 1024);

    @Option(names = "--batch", description = "Student-step batch (default: ${DEFAULT-VALUE}).")
    int batch = 256;

    @Option(names = "--width", description = "Student width (default: ${DEFAULT-VALUE}).")
    int width = 128;

    @Option(names = "--reps", description = "Timed student steps (default: ${DEFAULT-VALUE}).")
    int reps = 5;

    @Option(names = "--warmup", description = "Untimed student steps first; the JIT needs about 5 to settle (default: ${DEFAULT-VALUE}).")
    int warmup = 6;

    @Option(names = "--device", description = "metagrad: cpu, cuda or auto (default: ${DEFAULT-VALUE}).")
    String device = "cpu";

    @Option(names = "--steps", description = "metagrad: unrolled steps N (default: ${DEFAULT-VALUE}).")
    int steps = 40;

    @Option(names = "--images", description = "metagrad: synthetic images (default: ${DEFAULT-VALUE}).")
    int images = 1000;

    @Option(names = "--iterations", description = "metagrad: timed iterations (default: ${DEFAULT-VALUE}).")
    int iterations = 1;

    enum Which { cpu, metagrad }

    @Override
    public Integer call() throws Exception {
        if (which == Which.metagrad) return metagrad();
        PrintWriter out = spec.commandLine().getOut();
        for (int n : sizes) {
            checkRange("--sizes", n, 1, 8192);
        }
        checkRange("--batch", batch, 1, 4096);
        checkRange("--width", width, 1, 1024);
        checkRange("--reps", reps, 1, 1000);
        checkRange("--warmup", warmup, 0, 1000);
        ObjectMapper mapper = new ObjectMapper();
        String engine = "mkdt-cpu-java" + Runtime.version().feature() + "-threads" + Parallel.threads();
        if (!json) out.printf("CPU backend, %d threads, Java %s%n", Parallel.threads(), Runtime.version());
        for (int n : sizes) {
            GemmBench g = new GemmBench(CpuBackend.INSTANCE, n);
            int repeats = (int) Math.max(10, Math.min(200, 4e9 / g.flops()));
            // The first calls run while the JIT compiles the kernel: warm up on a fixed budget.
            Timing.Stats s = Timing.measure(Math.max(20, repeats), repeats, () -> g.run().numel());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("what", "sgemm");
            m.put("engine", engine);
            m.put("n", n);
            m.put("gflops_median", g.flops() / s.median() / 1e9);
            m.put("seconds_median", s.median());
            emit(out, mapper, m, String.format("sgemm n=%-5d %8.1f GFLOP/s  (median of %d, %.4f s)", n, g.flops() / s.median() / 1e9, s.repeats(), s.median()));
        }
        StudentStep step = new StudentStep(CpuBackend.INSTANCE, batch, 3, width, 512);
        Timing.Stats s = Timing.measure(warmup, reps, step::run);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("what", "student_step");
        m.put("engine", engine);
        m.put("batch", batch);
        m.put("channels", 3);
        m.put("width", width);
        m.put("images_per_second", batch / s.median());
        m.put("seconds_median", s.median());
        m.put("seconds_min", s.min());
        m.put("seconds_max", s.max());
        emit(out, mapper, m, String.format("student step (batch %d, width %d): %.1f images/s  (median of %d, %.3f s; min %.3f, max %.3f)",
                batch, width, batch / s.median(), s.repeats(), s.median(), s.min(), s.max()));
        return 0;
    }

    /** Seconds per distillation iteration (recompute meta-gradient) and its peak memory, CPU. */
    private int metagrad() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        checkRange("--steps", steps, 1, 10_000);
        checkRange("--images", images, 1, 1_000_000);
        checkRange("--batch", batch, 1, 4096);
        checkRange("--width", width, 1, 1024);
        checkRange("--iterations", iterations, 1, 100);
        ObjectMapper mapper = new ObjectMapper();
        org.mkdt.backend.Backend backend = Devices.select(device).backend();
        boolean cuda = backend instanceof CudaBackend;
        // The CPU gets its own instance so its memory figures count this benchmark only.
        if (!cuda) backend = new CpuBackend();
        String engine = cuda ? "mkdt-cuda-" + ((CudaBackend) backend).device().name().replace(' ', '_')
                : "mkdt-cpu-java" + Runtime.version().feature() + "-threads" + Parallel.threads();
        MetaGradBench bench = new MetaGradBench(backend, steps, batch, images, width, 512, 1);
        RecomputeMetaGrad impl = new RecomputeMetaGrad();
        if (!json) {
            out.printf("Meta-gradient (recompute), %s: N = %d, batch %d, %d images 3x32x32, width %d, D = 512, float32%n",
                    cuda ? "CUDA, " + ((CudaBackend) backend).device().name() : "CPU, " + Parallel.threads() + " threads", steps, batch, images, width);
            out.flush();
        }
        long[] peak = new long[1];
        // On the GPU one untimed iteration first (module loading, allocator warm-up); on the CPU
        // an iteration takes minutes, so none.
        Timing.Stats s = Timing.measure(cuda ? 1 : 0, iterations, () -> {
            MetaGradResult r = bench.run(impl);
            peak[0] = Math.max(peak[0], r.peakBytes());
            return r.loss();
        });
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("what", "metagrad_iteration");
        m.put("engine", engine);
        m.put("method", impl.name());
        m.put("steps", steps);
        m.put("batch", batch);
        m.put("images", images);
        m.put("width", width);
        m.put("seconds_median", s.median());
        m.put("seconds_min", s.min());
        m.put("iterations", s.repeats());
        m.put("peak_bytes_above_inputs", peak[0]);
        m.put("input_bytes", bench.inputBytes());
        if (cuda) m.put("device_peak_reserved_bytes", ((CudaBackend) backend).peakReservedBytes());
        emit(out, mapper, m, String.format("%.1f s per iteration (median of %d; includes JIT warm-up when 1), peak %,d bytes above the %,d bytes of inputs",
                s.median(), s.repeats(), peak[0], bench.inputBytes()));
        return 0;
    }

    /** Rejects an option value outside [lo, hi] with a message naming the option. */
    private static void checkRange(String option, int value, int lo, int hi) {
        if (value < lo || value > hi) throw new IllegalArgumentException(option + ": " + value + " is outside " + lo + ".." + hi);
    }

    private void emit(PrintWriter out, ObjectMapper mapper, Map<String, Object> m, String text) throws Exception {
        out.println(json ? mapper.writeValueAsString(m) : text);
        out.flush();
    }
}
