package org.mkdt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mkdt.backend.Backend;
import org.mkdt.backend.Devices;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.check.DeviceCheck;
import org.mkdt.check.OpCase;
import org.mkdt.tensor.DType;
import org.mkdt.check.OpCatalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Self-checks a user can run: {@code check gradients}. */
@Command(name = "check", description = "Verify the engine numerically: gradients (every op, first and second order, float64 against finite differences; --device cuda: the GPU in float32 against the CPU), metagrad (the exact meta-gradient), variance (KD's gradient noise and trajectory spread against Barlow Twins').")
public final class CheckCommand implements Callable<Integer> {
    /** Largest accepted error of either order; float64 central differences reach about 1e-9. */
    public static final double TOLERANCE = 1e-6;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", description = "What to check: ${COMPLETION-CANDIDATES}")
    What what;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--seed", description = "Seed for the random inputs (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--trace", description = "metagrad: also print the forward and reverse sweeps step by step.")
    boolean trace;

    @Option(names = "--export", paramLabel = "DIR", description = "metagrad: instead of the checks, write the seeded problem and mkdt's "
            + "meta-gradient of it (cpu float64, cpu float32, and the --device's float32 where that is a GPU) as safetensors into DIR, "
            + "for scripts/torch/check_metagrad.py DIR to recompute in PyTorch.")
    java.nio.file.Path export;

    @Option(names = "--device", description = "gradients, metagrad --export: cpu (float64 against finite differences, the default) or cuda / auto "
            + "(each op's value, gradient and second-order term on the device in float32 against the CPU in float64).")
    String device = "cpu";

    @Option(names = "--data", description = "variance: the data set, a name or a folder (default: ${DEFAULT-VALUE}).")
    String data = "fashion-mnist";

    @Option(names = "--data-dir", description = "variance: where the data set lives, for names that need it.")
    java.nio.file.Path dataDir;

    @Option(names = "--images", description = "variance: the first N training images (default: ${DEFAULT-VALUE}).")
    int images = 1024;

    @Option(names = "--teacher", paramLabel = "FILE", description = "variance: KD targets from a teacher representations file (a run's teacher.safetensors, "
            + "or .npy; at least --images rows, in the data set's order) instead of a random-init ConvNet's features.")
    java.nio.file.Path teacher;

    @Option(names = "--width", description = "variance: the ConvNet's channels (default: ${DEFAULT-VALUE}).")
    int width = org.mkdt.check.GradientVariance.Settings.defaults(0).width();

    @Option(names = "--kd-lr", description = "variance: KD's learning rate (default: ${DEFAULT-VALUE}, the experts').")
    double kdLr = org.mkdt.check.GradientVariance.Settings.defaults(0).kdLr();

    @Option(names = "--bt-lr", description = "variance: Barlow Twins' learning rate (default: ${DEFAULT-VALUE}, the demo teacher's).")
    double btLr = org.mkdt.check.GradientVariance.Settings.defaults(0).btLr();

    @Option(names = "--steps", description = "variance: SGD steps per trajectory (default: ${DEFAULT-VALUE}).")
    int steps = org.mkdt.check.GradientVariance.Settings.defaults(0).steps();

    enum What { gradients, metagrad, variance }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        boolean ok;
        if (what == What.metagrad && export != null) {
            if (java.nio.file.Files.exists(export) && !java.nio.file.Files.isDirectory(export)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--export: " + export + " exists and is not a folder");
            }
            Devices.Selection d = Devices.select(device);
            for (java.nio.file.Path f : org.mkdt.check.MetaGradExport.export(export, MetaGradReport.STEPS, seed, d.backend())) out.println("wrote " + f);
            out.println("compare with PyTorch (float64, create_graph=True): /usr/bin/python3 scripts/torch/check_metagrad.py " + export);
            ok = true;
        } else if (what == What.variance) {
            org.mkdt.check.GradientVariance.Settings d = org.mkdt.check.GradientVariance.Settings.defaults(seed);
            org.mkdt.check.GradientVariance.Settings st = new org.mkdt.check.GradientVariance.Settings(width, d.batch(), d.minibatches(), d.runs(), steps,
                    kdLr, btLr, d.projectorDim(), d.lambda(), seed);
            VarianceReport.print(out, json, data, dataDir, images, teacher, st, Devices.select(device).backend());
            ok = true;
        } else if (what == What.metagrad) {
            ok = MetaGradReport.print(out, json, trace, seed);
        } else {
            Devices.Selection d = Devices.select(device);
            if (d.backend() instanceof CpuBackend) {
                ok = gradients(out);
            } else {
                if (!json) out.println(d.line());
                ok = deviceGradients(out, d.backend());
            }
        }
        out.flush();
        return ok ? 0 : 1;
    }

    private boolean gradients(PrintWriter out) throws Exception {
        List<OpCase.Result> results = new ArrayList<>();
        boolean ok = true;
        if (!json) {
            out.printf("Gradient check, float64, central differences (step %.0e), tolerance %.0e%n", org.mkdt.check.GradCheck.STEP, TOLERANCE);
            out.printf("%-28s %-32s %7s %12s %12s  %s%n", "op", "input shapes", "coords", "1st order", "2nd order", "");
            out.flush();
        }
        for (OpCase c : OpCatalog.all()) {
            OpCase.Result r = c.check(seed);
            results.add(r);
            boolean pass = r.firstOrderError() <= TOLERANCE && r.secondOrderError() <= TOLERANCE;
            ok &= pass;
            if (!json) {
                out.printf("%-28s %-32s %7d %12.2e %12.2e  %s%n", r.name(), r.shapes(), r.coordinates(),
                        r.firstOrderError(), r.secondOrderError(), pass ? "ok" : "FAIL");
                out.flush();
            }
        }
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("check", "gradients");
            doc.put("dtype", "float64");
            doc.put("step", org.mkdt.check.GradCheck.STEP);
            doc.put("tolerance", TOLERANCE);
            doc.put("seed", seed);
            List<Map<String, Object>> ops = new ArrayList<>();
            for (OpCase.Result r : results) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("op", r.name());
                m.put("shapes", r.shapes());
                m.put("coordinates", r.coordinates());
                m.put("first_order_error", r.firstOrderError());
                m.put("second_order_error", r.secondOrderError());
                m.put("pass", r.firstOrderError() <= TOLERANCE && r.secondOrderError() <= TOLERANCE);
                ops.add(m);
            }
            doc.put("ops", ops);
            doc.put("pass", ok);
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
        } else {
            out.println(ok ? "all ops within tolerance" : "SOME OPS EXCEED THE TOLERANCE");
        }
        return ok;
    }

    /** Every op on the device (float32) against the CPU (float64): value, gradient, second-order term. */
    private boolean deviceGradients(PrintWriter out, Backend backend) throws Exception {
        boolean ok = true;
        List<Map<String, Object>> ops = new ArrayList<>();
        if (!json) {
            out.printf("Device check: %s float32 against cpu float64, relative max-norm error, tolerance %.0e%n", backend.name(), DeviceCheck.TOLERANCE);
            out.printf("%-28s %-32s %10s %10s %10s  %s%n", "op", "input shapes", "value", "1st order", "2nd order", "");
            out.flush();
        }
        for (OpCase c : OpCatalog.all()) {
            DeviceCheck.Result r = DeviceCheck.check(c, backend, DType.F32, seed);
            ok &= r.passed();
            if (!json) {
                out.printf("%-28s %-32s %10.2e %10.2e %10.2e  %s%n", r.name(), r.shapes(), r.valueError(), r.firstOrderError(),
                        r.secondOrderError(), r.passed() ? "ok" : "FAIL");
                out.flush();
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("op", r.name());
            m.put("shapes", r.shapes());
            m.put("value_error", r.valueError());
            m.put("first_order_error", r.firstOrderError());
            m.put("second_order_error", r.secondOrderError());
            m.put("pass", r.passed());
            ops.add(m);
        }
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("check", "gradients");
            doc.put("device", backend.name());
            doc.put("dtype", "float32 against cpu float64");
            doc.put("tolerance", DeviceCheck.TOLERANCE);
            doc.put("seed", seed);
            doc.put("ops", ops);
            doc.put("pass", ok);
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
        } else {
            out.println(ok ? "all ops within tolerance on " + backend.name() : "SOME OPS EXCEED THE TOLERANCE on " + backend.name());
        }
        return ok;
    }
}
