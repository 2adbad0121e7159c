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
import org.mkdt.bench.ExpertStepBench;
import org.mkdt.bench.GemmBench;
import org.mkdt.bench.KernelModel;
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
 * Quick benchmarks, comparable line for line with scripts/reference/numpy_reference.py (same
 * work, same JSON fields, median of repeats). JMH in src/jmh/ measures the same two things
 * carefully.
 */
@Command(name = "bench", description = "Quick benchmarks: cpu (SGEMM, student step), metagrad (one distillation iteration), experts (expert training images/s).")
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

    @Option(names = "--device", description = "metagrad, experts: cpu, cuda or auto (default: ${DEFAULT-VALUE}).")
    String device = "cpu";

    @Option(names = "--steps", description = "metagrad: unrolled steps N; experts: SGD steps per timed repeat (default: ${DEFAULT-VALUE}).")
    int steps = 40;

    @Option(names = "--images", description = "metagrad: synthetic images (default: ${DEFAULT-VALUE}).")
    int images = 1000;

    @Option(names = "--iterations", description = "metagrad: timed iterations (default: ${DEFAULT-VALUE}).")
    int iterations = 1;

    @Option(names = "--segments", description = "metagrad: trajectory segments per iteration, unrolled as one batch (default: ${DEFAULT-VALUE}).")
    int segments = 1;

    @Option(names = "--chunk", description = "metagrad: images of a step's minibatch taken at a time (0: all; less memory) (default: ${DEFAULT-VALUE}).")
    int chunk = 0;

    @Option(names = "--batch-students", description = "experts: students trained at once (default: ${DEFAULT-VALUE}).")
    int batchStudents = 1;

    enum Which { cpu, metagrad, experts }

    @Override
    public Integer call() throws Exception {
        if (which == Which.metagrad) return metagrad();
        if (which == Which.experts) return experts();
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
        // The first student step of this JVM, before anything is compiled: what a user waits for
        // at the start of every stage (the steady state below is reached after a few steps).
        StudentStep step = new StudentStep(CpuBackend.INSTANCE, batch, 3, width, 512);
        long t0 = System.nanoTime();
        step.run();
        double first = (System.nanoTime() - t0) / 1e9;
        for (int n : sizes) {
            GemmBench g = new GemmBench(CpuBackend.INSTANCE, n);
            int repeats = (int) Math.max(10, Math.min(200, 4e9 / g.flops()));
            // The first calls run while the JIT compiles the kernel: warm up on a fixed budget.
            Timing.Stats s = Timing.measure(Math.max(20, repeats), repeats, () -> g.run().numel());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("what", "sgemm");
            m.put("engine", engine);
            m.put("gc", org.mkdt.util.Jvm.collector());
            m.put("n", n);
            m.put("gflops_median", g.flops() / s.median() / 1e9);
            m.put("seconds_median", s.median());
            emit(out, mapper, m, String.format("sgemm n=%-5d %8.1f GFLOP/s  (median of %d, %.4f s)", n, g.flops() / s.median() / 1e9, s.repeats(), s.median()));
        }
        Timing.Stats s = Timing.measure(warmup, reps, step::run);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("what", "student_step");
        m.put("engine", engine);
        m.put("gc", org.mkdt.util.Jvm.collector());
        m.put("batch", batch);
        m.put("channels", 3);
        m.put("width", width);
        m.put("images_per_second", batch / s.median());
        m.put("seconds_median", s.median());
        m.put("seconds_min", s.min());
        m.put("seconds_max", s.max());
        m.put("first_step_seconds", first);
        emit(out, mapper, m, String.format("student step (batch %d, width %d): %.1f images/s  (median of %d, %.3f s; min %.3f, max %.3f; first step of the JVM %.2f s)",
                batch, width, batch / s.median(), s.repeats(), s.median(), s.min(), s.max(), first));
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
        checkRange("--segments", segments, 1, 1024);
        checkRange("--chunk", chunk, 0, 65536);
        ObjectMapper mapper = new ObjectMapper();
        org.mkdt.backend.Backend backend = backend();
        boolean cuda = backend instanceof CudaBackend;
        String engine = engine(backend);
        MetaGradBench bench = new MetaGradBench(backend, steps, batch, images, width, 512, 1, segments);
        RecomputeMetaGrad impl = new RecomputeMetaGrad(chunk);
        if (!json) {
            out.printf("Meta-gradient (recompute), %s: N = %d, batch %d%s, %d images 3x32x32, width %d, D = 512, %d segment(s), float32%n",
                    where(backend), steps, batch, chunk == 0 ? "" : " in chunks of " + chunk, images, width, segments);
            out.flush();
        }
        long[] peak = new long[1];
        long launchesBefore = cuda ? ((CudaBackend) backend).kernelLaunches() : 0;
        if (cuda) ((CudaBackend) backend).resetKernelProfile();
        // On the GPU one untimed iteration first (module loading, allocator warm-up); on the CPU
        // an iteration takes minutes, so none.
        Timing.Stats s = Timing.measure(cuda ? 1 : 0, iterations, () -> {
            MetaGradResult r = bench.run(impl);
            peak[0] = Math.max(peak[0], r.peakBytes());
            return r.loss();
        });
        Map<String, Object> m = new LinkedHashMap<>();
        org.mkdt.backend.cuda.KernelProfile.Snapshot kernels = null; // one snapshot for the JSON and the table
        m.put("what", "metagrad_iteration");
        m.put("engine", engine);
        m.put("gc", org.mkdt.util.Jvm.collector());
        m.put("method", impl.name());
        m.put("steps", steps);
        m.put("batch", batch);
        m.put("images", images);
        m.put("width", width);
        m.put("segments", segments);
        m.put("chunk", chunk);
        m.put("seconds_median", s.median());
        m.put("seconds_per_segment", s.median() / segments);
        m.put("seconds_min", s.min());
        m.put("iterations", s.repeats());
        m.put("peak_bytes_above_inputs", peak[0]);
        m.put("input_bytes", bench.inputBytes());
        if (cuda) {
            m.put("device_peak_reserved_bytes", ((CudaBackend) backend).peakReservedBytes());
            // untimed warm-up iteration + timed ones, all alike
            m.put("kernel_launches_per_iteration", (((CudaBackend) backend).kernelLaunches() - launchesBefore) / (s.repeats() + 1));
            kernels = ((CudaBackend) backend).kernelProfile();
            m.put("kernel_profile", KernelModel.json(kernels, s.repeats() + 1));
        }
        emit(out, mapper, m, String.format("%.1f s per iteration (median of %d; includes JIT warm-up when 1), peak %,d bytes above the %,d bytes of inputs",
                s.median(), s.repeats(), peak[0], bench.inputBytes()));
        if (kernels != null && !json) KernelModel.table(kernels, s.repeats() + 1, 15).forEach(out::println);
        return 0;
    }

    /** Expert training throughput: S students at once, full SGD steps (forward, backward, update) on batch-B minibatches. */
    private int experts() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        checkRange("--batch-students", batchStudents, 1, 1024);
        checkRange("--batch", batch, 1, 4096);
        checkRange("--width", width, 1, 1024);
        checkRange("--steps", steps, 1, 10_000);
        checkRange("--reps", reps, 1, 1000);
        checkRange("--warmup", warmup, 0, 1000);
        org.mkdt.backend.Backend backend = backend();
        if (!json) {
            out.printf("Expert training, %s: %d student(s) at once, batch %d each, width %d, D = 512, %d SGD steps per repeat, float32%n",
                    where(backend), batchStudents, batch, width, steps);
            out.flush();
        }
        ExpertStepBench bench = new ExpertStepBench(backend, batchStudents, batch, width, 512);
        long launchesBefore = backend instanceof CudaBackend cuda ? cuda.kernelLaunches() : 0;
        if (backend instanceof CudaBackend cuda) cuda.resetKernelProfile();
        Timing.Stats s = Timing.measure(warmup, reps, () -> bench.run(steps));
        Map<String, Object> m = new LinkedHashMap<>();
        org.mkdt.backend.cuda.KernelProfile.Snapshot kernels = null; // one snapshot for the JSON and the table
        m.put("what", "expert_steps");
        m.put("engine", engine(backend));
        m.put("gc", org.mkdt.util.Jvm.collector());
        m.put("batch_students", batchStudents);
        m.put("batch", batch);
        m.put("steps", steps);
        m.put("width", width);
        m.put("images_per_second", bench.images(steps) / s.median());
        m.put("seconds_median", s.median());
        m.put("seconds_min", s.min());
        m.put("seconds_max", s.max());
        if (backend instanceof CudaBackend cuda) {
            m.put("device_peak_reserved_bytes", cuda.peakReservedBytes());
            // one SGD step of all S students; warm-up and timed repeats alike
            m.put("kernel_launches_per_step", (cuda.kernelLaunches() - launchesBefore) / ((long) (warmup + s.repeats()) * steps));
            kernels = cuda.kernelProfile();
            m.put("kernel_profile", KernelModel.json(kernels, (long) (warmup + s.repeats()) * steps));
        }
        emit(out, new ObjectMapper(), m, String.format("%.1f images/s (%d students x batch %d x %d steps in %.3f s, median of %d)",
                bench.images(steps) / s.median(), batchStudents, batch, steps, s.median(), s.repeats()));
        if (kernels != null && !json) KernelModel.table(kernels, (long) (warmup + s.repeats()) * steps, 15).forEach(out::println);
        return 0;
    }

    /** The --device backend; the CPU gets its own instance so its memory figures count this benchmark only. */
    private org.mkdt.backend.Backend backend() {
        org.mkdt.backend.Backend b = Devices.select(device).backend();
        return b instanceof CudaBackend ? b : new CpuBackend();
    }

    private static String engine(org.mkdt.backend.Backend b) {
        return b instanceof CudaBackend cuda ? "mkdt-cuda-" + cuda.device().name().replace(' ', '_')
                : "mkdt-cpu-java" + Runtime.version().feature() + "-threads" + Parallel.threads();
    }

    private static String where(org.mkdt.backend.Backend b) {
        return b instanceof CudaBackend cuda ? "CUDA, " + cuda.device().name() : "CPU, " + Parallel.threads() + " threads";
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
