package org.mkdt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mkdt.check.OpCase;
import org.mkdt.check.OpCatalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Self-checks a user can run: {@code check gradients}. */
@Command(name = "check", description = "Verify the engine numerically in float64: gradients (every op, first and second order), metagrad (the exact meta-gradient).")
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

    enum What { gradients, metagrad }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        boolean ok = what == What.gradients ? gradients(out) : MetaGradReport.print(out, json, trace, seed);
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
}
