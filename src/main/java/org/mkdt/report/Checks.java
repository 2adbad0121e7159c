package org.mkdt.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an evaluation table can and cannot show, decided from its own rows. A subset (distilled
 * or not) can only show a benefit where three preconditions hold:
 * <ul>
 *   <li>G1: the teacher beats random initialisation (its probe above a random-init encoder of
 *       the same architecture and representation); else copying the teacher can only lose;</li>
 *   <li>G2: knowledge distillation on the full training set beats no pre-training; else no
 *       subset of that training set can be expected to;</li>
 *   <li>G3: no pre-training ≤ random subset < full training set: the room a subset works in.</li>
 * </ul>
 * Then the claims MKDT makes: M1, the distilled set ≥ random subset + 1 point and ≥ the initial
 * (high-loss) subset + 1 point at every label fraction; M2, its held-out KD error below both
 * subsets'. Each check compares means over seeds at every label fraction shown; the paired
 * differences (same seed, same labelled subset) are given with the M1 line.
 */
public final class Checks {
    /** One check: id (G1, ...), whether it holds (null: could not be checked), and the measured figures in words. */
    public record Check(String id, String claim, Boolean holds, String detail) {
        public String line() {
            return String.format("%s %s: %s (%s)", id, claim, holds == null ? "not checked" : holds ? "holds" : "FAILS", detail);
        }
    }

    /** The names of the rows the checks read. */
    public record RowNames(String teacher, String randomTeacher, String distilled, String initial, String random, String none, String full,
                           String distilledAtSubsetLr, String initialAtLearnedLr) {}

    private final List<Check> checks = new ArrayList<>();
    private final List<String> imagesOrLr = new ArrayList<>();

    public Checks(Results r, RowNames n) {
        double[] f = r.fractions();
        Results.Row teacher = r.row(n.teacher()), randomTeacher = r.row(n.randomTeacher()), distilled = r.row(n.distilled()),
                initial = r.row(n.initial()), random = r.row(n.random()), none = r.row(n.none()), full = r.row(n.full());
        checks.add(teacher == null || randomTeacher == null
                ? new Check("G1", "the teacher beats random initialisation", null, "no teacher rows: representations imported, or --rows without teacher")
                : new Check("G1", "the teacher beats random initialisation", above(teacher, randomTeacher, 0, f), versus(teacher, randomTeacher, f)));
        checks.add(full == null || none == null
                ? new Check("G2", "KD on the full training set beats no pre-training", null, "no full-data row")
                : new Check("G2", "KD on the full training set beats no pre-training", above(full, none, 0, f), versus(full, none, f)));
        if (full == null || none == null || random == null) {
            checks.add(new Check("G3", "no pre-training <= random subset < full training set", null, "a row is missing"));
        } else {
            boolean g3 = true;
            for (int i = 0; i < f.length; i++) g3 &= none.mean(i) <= random.mean(i) && random.mean(i) < full.mean(i);
            checks.add(new Check("G3", "no pre-training <= random subset < full training set", g3, means(none, f) + " <= " + means(random, f) + " < " + means(full, f)));
        }
        if (distilled != null && random != null && initial != null) {
            boolean m1 = above(distilled, random, 0.01, f) && above(distilled, initial, 0.01, f);
            checks.add(new Check("M1", "MKDT >= random subset + 1 and >= initial subset + 1 point", m1,
                    "vs random: " + paired(distilled, random, f) + "; vs initial: " + paired(distilled, initial, f)));
            if (distilled.heldOut() != null && random.heldOut() != null && initial.heldOut() != null) {
                boolean m2 = distilled.heldOutMean() < random.heldOutMean() && distilled.heldOutMean() < initial.heldOutMean();
                checks.add(new Check("M2", "MKDT's held-out KD error below both subsets'", m2, String.format("%.4f vs random %.4f, initial %.4f",
                        distilled.heldOutMean(), random.heldOutMean(), initial.heldOutMean())));
            } else {
                checks.add(new Check("M2", "MKDT's held-out KD error below both subsets'", null, "no teacher encoder to measure it"));
            }
        }
        // The distilled set differs from its start in its images and in the lr it is pre-trained at; the two extra rows
        // make a two-by-two table, and each difference below changes one factor only.
        Results.Row distilledAtSubsetLr = r.row(n.distilledAtSubsetLr()), initialAtLearnedLr = r.row(n.initialAtLearnedLr());
        split("the distilled images' gain at the subsets' lr", distilledAtSubsetLr, initial, f);
        split("the distilled images' gain at the learned lr", distilled, initialAtLearnedLr, f);
        split("the learned lr's gain with the distilled images", distilled, distilledAtSubsetLr, f);
        split("the learned lr's gain with the initial images", initialAtLearnedLr, initial, f);
    }

    private void split(String what, Results.Row a, Results.Row b, double[] f) {
        if (a != null && b != null) imagesOrLr.add(what + " (" + a.name() + " minus " + b.name() + "): " + paired(a, b, f));
    }

    /**
     * What the distilled set's images gained apart from its learned lr, and the other way round:
     * one line per difference the table's rows allow (empty without the rows distilled-subset-lr
     * and initial-learned-lr).
     */
    public List<String> imagesOrLr() {
        return List.copyOf(imagesOrLr);
    }

    public List<Check> all() {
        return List.copyOf(checks);
    }

    /** True when G1, G2 and G3 all hold: only then can this table show a subset's benefit. */
    public boolean preconditionsHold() {
        return checks.stream().filter(c -> c.id().startsWith("G")).allMatch(c -> Boolean.TRUE.equals(c.holds()));
    }

    /** The verdict in one paragraph: what this table can show, and why not where it cannot. */
    public String verdict() {
        if (preconditionsHold()) return "The preconditions hold: this setting can show whether a small pre-training set transfers the teacher.";
        List<String> failed = new ArrayList<>();
        for (Check c : checks) {
            if (!c.id().startsWith("G")) continue;
            if (Boolean.FALSE.equals(c.holds())) failed.add(c.id() + " fails (" + c.claim() + ": " + c.detail() + ")");
            if (c.holds() == null) failed.add(c.id() + " was not checked (" + c.detail() + ")");
        }
        return "This setting cannot show a subset's benefit: " + String.join("; ", failed)
                + ". Differences between the subset rows here say nothing about MKDT, only about this teacher and data.";
    }

    /** Markdown: one bullet per check, then the verdict. */
    public String markdown() {
        StringBuilder sb = new StringBuilder();
        for (Check c : checks) sb.append("- ").append(c.line()).append('\n');
        sb.append('\n').append(verdict()).append('\n');
        if (!imagesOrLr.isEmpty()) {
            sb.append("\nImages or learned lr:\n\n");
            for (String line : imagesOrLr) sb.append("- ").append(line).append('\n');
        }
        return sb.toString();
    }

    public List<Map<String, Object>> json() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Check c : checks) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", c.id());
            m.put("claim", c.claim());
            m.put("holds", c.holds());
            m.put("detail", c.detail());
            out.add(m);
        }
        return out;
    }

    /** a's mean exceeds b's by more than margin (a fraction of 1) at every label fraction. */
    private static boolean above(Results.Row a, Results.Row b, double margin, double[] f) {
        for (int i = 0; i < f.length; i++) if (!(a.mean(i) - b.mean(i) > margin - 1e-12)) return false;
        return true;
    }

    private static String versus(Results.Row a, Results.Row b, double[] f) {
        return means(a, f) + " vs " + means(b, f);
    }

    /** "81.32 / 86.51" over the label fractions, percent. */
    private static String means(Results.Row r, double[] f) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < f.length; i++) sb.append(i > 0 ? " / " : "").append(String.format("%.2f", 100 * r.mean(i)));
        return sb.toString();
    }

    /** Mean ± sample std of the per-seed differences a - b, points, at each label fraction. */
    private static String paired(Results.Row a, Results.Row b, double[] f) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < f.length; i++) {
            double[] d = new double[a.acc()[i].length];
            for (int s = 0; s < d.length; s++) d[s] = 100 * (a.acc()[i][s] - b.acc()[i][s]);
            double mean = java.util.Arrays.stream(d).average().orElse(Double.NaN);
            sb.append(i > 0 ? " / " : "").append(String.format("%+.2f ± %.2f", mean, Results.sampleStd(d)));
        }
        return sb.append(" points (paired by seed)").toString();
    }
}
