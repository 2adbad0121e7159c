package org.mkdt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mkdt.check.MetaGradCheck;
import org.mkdt.check.MetaGradCheck.Agreement;
import org.mkdt.check.MetaGradCheck.Directional;
import org.mkdt.check.MetaGradCheck.Memory;
import org.mkdt.metagrad.SweepTrace;
import org.mkdt.metagrad.ToyProblem;

/** {@code check metagrad}: the three comparisons of {@link MetaGradCheck}, as a table or JSON. */
final class MetaGradReport {
    /** Unrolled steps for the agreement and finite-difference comparisons. */
    static final int STEPS = 6;
    static final int SMALL_N = 5;
    static final int LARGE_N = 40;
    /** Segments of the batched-segments comparison. */
    static final int SEGMENTS = 3;

    private MetaGradReport() {}

    static boolean print(PrintWriter out, boolean json, boolean trace, long seed) throws Exception {
        Agreement agree = MetaGradCheck.agreement(STEPS, seed);
        Directional[] fd = MetaGradCheck.finiteDifferences(STEPS, seed);
        Memory mem = MetaGradCheck.memory(SMALL_N, LARGE_N, seed);
        Agreement seg = MetaGradCheck.segments(SEGMENTS, STEPS, seed);
        boolean fdPass = true;
        for (Directional d : fd) fdPass &= d.pass();
        boolean ok = agree.pass() && fdPass && mem.pass() && seg.pass();
        SweepTrace sweeps = trace ? MetaGradCheck.trace(STEPS, seed) : null;
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(document(agree, fd, mem, seg, sweeps, ok, seed)));
            return ok;
        }
        out.printf("Exact meta-gradient checks, float64, toy problem: ConvNet depth 2 width 6 on 3x8x8, %d images, batch %d, seed %d%n",
                ToyProblem.IMAGES, ToyProblem.BATCH, seed);
        out.printf("1. naive unroll vs recompute (N = %d), max relative difference, tolerance %.0e%n", agree.steps(), MetaGradCheck.AGREEMENT_TOLERANCE);
        out.printf("   images %.2e   targets %.2e   alpha %.2e   %s%n", agree.imagesError(), agree.targetsError(), agree.alphaError(), agree.pass() ? "ok" : "FAIL");
        out.printf("2. recompute vs central finite differences of L (N = %d), directional derivatives, tolerance %.0e%n", STEPS, MetaGradCheck.FINITE_DIFFERENCE_TOLERANCE);
        for (Directional d : fd) {
            out.printf("   %-8s analytic %+.12e  numeric %+.12e  rel. error %.2e  %s%n", d.what(), d.analytic(), d.numeric(), d.error(), d.pass() ? "ok" : "FAIL");
        }
        out.printf("3. peak live tensor bytes (engine accounting), N = %d vs N = %d; |theta| = %d bytes%n", mem.smallN(), mem.largeN(), mem.paramBytes());
        out.printf("   recompute %,12d -> %,12d  growth %,12d = %.3f x (N2-N1)|theta| (must be 1 +- %.2f)%n",
                mem.recomputeSmall(), mem.recomputeLarge(), mem.recomputeLarge() - mem.recomputeSmall(), mem.recomputeGrowthRatio(), MetaGradCheck.MEMORY_TOLERANCE);
        out.printf("   naive     %,12d -> %,12d  growth %,12d = %.1f x (N2-N1)|theta| (the whole double-backward graph)   %s%n",
                mem.naiveSmall(), mem.naiveLarge(), mem.naiveLarge() - mem.naiveSmall(), mem.naiveGrowthRatio(), mem.pass() ? "ok" : "FAIL");
        out.printf("4. %d segments unrolled as one batch of students vs the mean of the %d unrolled alone (N = %d, distill --segments), tolerance %.0e%n",
                SEGMENTS, SEGMENTS, seg.steps(), MetaGradCheck.AGREEMENT_TOLERANCE);
        out.printf("   images %.2e   targets %.2e   alpha %.2e   %s%n", seg.imagesError(), seg.targetsError(), seg.alphaError(), seg.pass() ? "ok" : "FAIL");
        if (sweeps != null) printTrace(out, sweeps);
        out.println(ok ? "all meta-gradient checks within tolerance" : "SOME META-GRADIENT CHECKS FAILED");
        return ok;
    }

    private static void printTrace(PrintWriter out, SweepTrace t) {
        out.println("Forward sweep: theta_{k+1} = theta_k - alpha * grad l_k(theta_k)");
        out.printf("   %4s %16s %20s%n", "k", "inner loss l_k", "||theta_k - theta*||");
        for (SweepTrace.Forward f : t.forwardSteps()) out.printf("   %4d %16.8f %20.8f%n", f.step(), f.innerLoss(), f.distanceToTarget());
        out.println("Reverse sweep: a_k = a_{k+1} - alpha * H_k a_{k+1};  dL/dalpha = sum_k -<a_{k+1}, g_k>");
        out.printf("   %4s %16s %22s%n", "k", "||a_k||", "term of dL/dalpha");
        for (SweepTrace.Reverse r : t.reverseSteps()) out.printf("   %4d %16.8f %22.10f%n", r.step(), r.adjointNorm(), r.alphaContribution());
    }

    private static Map<String, Object> document(Agreement a, Directional[] fd, Memory m, Agreement seg, SweepTrace t, boolean ok, long seed) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("check", "metagrad");
        doc.put("dtype", "float64");
        doc.put("seed", seed);
        Map<String, Object> agree = new LinkedHashMap<>();
        agree.put("steps", a.steps());
        agree.put("images_relative_error", a.imagesError());
        agree.put("targets_relative_error", a.targetsError());
        agree.put("alpha_relative_error", a.alphaError());
        agree.put("tolerance", MetaGradCheck.AGREEMENT_TOLERANCE);
        agree.put("pass", a.pass());
        doc.put("naive_vs_recompute", agree);
        List<Map<String, Object>> dirs = new ArrayList<>();
        for (Directional d : fd) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("direction", d.what());
            e.put("analytic", d.analytic());
            e.put("numeric", d.numeric());
            e.put("relative_error", d.error());
            e.put("tolerance", MetaGradCheck.FINITE_DIFFERENCE_TOLERANCE);
            e.put("pass", d.pass());
            dirs.add(e);
        }
        doc.put("recompute_vs_finite_differences", dirs);
        Map<String, Object> mem = new LinkedHashMap<>();
        mem.put("n_small", m.smallN());
        mem.put("n_large", m.largeN());
        mem.put("param_bytes", m.paramBytes());
        mem.put("expected_growth_bytes", m.expectedGrowth());
        mem.put("recompute_peak_bytes", List.of(m.recomputeSmall(), m.recomputeLarge()));
        mem.put("naive_peak_bytes", List.of(m.naiveSmall(), m.naiveLarge()));
        mem.put("recompute_growth_ratio", m.recomputeGrowthRatio());
        mem.put("naive_growth_ratio", m.naiveGrowthRatio());
        mem.put("tolerance", MetaGradCheck.MEMORY_TOLERANCE);
        mem.put("pass", m.pass());
        doc.put("peak_memory", mem);
        Map<String, Object> segments = new LinkedHashMap<>();
        segments.put("segments", SEGMENTS);
        segments.put("steps", seg.steps());
        segments.put("images_relative_error", seg.imagesError());
        segments.put("targets_relative_error", seg.targetsError());
        segments.put("alpha_relative_error", seg.alphaError());
        segments.put("tolerance", MetaGradCheck.AGREEMENT_TOLERANCE);
        segments.put("pass", seg.pass());
        doc.put("batched_segments_vs_separate", segments);
        if (t != null) {
            doc.put("forward_sweep", t.forwardSteps());
            doc.put("reverse_sweep", t.reverseSteps());
        }
        doc.put("pass", ok);
        return doc;
    }
}
