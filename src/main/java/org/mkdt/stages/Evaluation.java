package org.mkdt.stages;

import java.util.List;
import java.util.function.Consumer;
import org.mkdt.backend.Backend;
import org.mkdt.data.Dataset;
import org.mkdt.data.ImageSet;
import org.mkdt.io.NdArray;
import org.mkdt.nn.ConvNet;
import org.mkdt.nn.Encoder;
import org.mkdt.report.Checks;
import org.mkdt.report.Results;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.util.Seeds;

/**
 * The whole evaluation: the teacher's own rows (its representation probed, beside a random-init
 * encoder of the same architecture: check G1), then every pre-training set pre-trained and
 * probed for every seed, with its held-out KD error; and the checks ({@link Checks}) that say
 * what the table can show.
 *
 * <p>Held-out images: the first {@link #HELD_OUT} images of the downstream test split, which no
 * pre-training set contains, with the teacher encoder's representations as targets. Without a
 * teacher encoder (imported representations) neither the teacher rows nor the held-out error
 * can be measured, and the table says so.
 */
public final class Evaluation {
    /** Row names; {@link Checks} reads the table by them. */
    public static final String TEACHER = "teacher (its own representation)", RANDOM_TEACHER = "random-init teacher encoder",
            DISTILLED = "MKDT (distilled)", RANDOM = "random real subset (class-balanced)", NONE = "no pre-training", FULL = "full training set (KD)",
            DISTILLED_AT_SUBSET_LR = "MKDT images at the subsets' lr";
    /**
     * The protocol's pre-training lr for every set without a learned one (real subsets, the full
     * set): the reference's 0.1, which is also distillation's starting lr ({@code alphaInit}).
     */
    public static final double SUBSET_LR = 0.1;
    /** How many test images the held-out KD error is measured on. */
    public static final int HELD_OUT = 2000;

    /**
     * The trained teacher: its encoder and parameters, a maker of fresh encoders of the same
     * kind (the random-init baseline needs its own batch-norm statistics), and the images it
     * was trained on (they calibrate those statistics).
     */
    public record TeacherModel(Encoder encoder, Tensor theta, java.util.function.Supplier<Encoder> fresh, ImageSet trainImages) {}

    /**
     * The table and what it can show; and one table per transfer data set (its name to its
     * results): the same pre-trained students probed there (no teacher rows, no held-out error).
     */
    public record Outcome(Results results, Checks checks, java.util.Map<String, Results> transfers) {}

    private Evaluation() {}

    public static String initialName(String method) {
        return "initial subset (" + method + ")";
    }

    /**
     * The initial subset pre-trained at the distilled set's learned lr: beside the MKDT row and
     * {@link #DISTILLED_AT_SUBSET_LR} it completes a two-by-two table (images: initial or
     * distilled; lr: the subsets' or the learned one) that separates what the images gained
     * from what the learned lr gained ({@link Checks#imagesOrLr()}).
     */
    public static String initialAtLearnedLrName(String method) {
        return initialName(method) + " at the learned lr";
    }

    public static Checks.RowNames rowNames(String initMethod) {
        return new Checks.RowNames(TEACHER, RANDOM_TEACHER, DISTILLED, initialName(initMethod), RANDOM, NONE, FULL,
                DISTILLED_AT_SUBSET_LR, initialAtLearnedLrName(initMethod));
    }

    /**
     * @param sets       the pre-training sets, in table order (their names are the rows)
     * @param downstream the data set probed (its whole training split gives the labels)
     * @param teacher    the teacher, or null: the held-out targets, and the teacher rows if {@code teacherRows}
     * @param log        one line per row and seed, as it is measured
     */
    public static Outcome run(ConvNet student, List<Evaluate.PretrainSet> sets, Dataset downstream, TeacherModel teacher, boolean teacherRows, String initMethod,
                              double[] fractions, long[] seeds, Evaluate.Settings settings, Backend backend, Consumer<String> log) {
        return run(student, sets, downstream, List.of(), teacher, teacherRows, initMethod, fractions, seeds, settings, backend, log);
    }

    /**
     * The same, and every pre-trained student also probed on each of {@code transfers} (data
     * sets already fitted to the student's input: {@link org.mkdt.data.Resample#forStudent}).
     */
    public static Outcome run(ConvNet student, List<Evaluate.PretrainSet> sets, Dataset downstream, List<Dataset> transfers, TeacherModel teacher, boolean teacherRows,
                              String initMethod, double[] fractions, long[] seeds, Evaluate.Settings settings, Backend backend, Consumer<String> log) {
        Results results = new Results(fractions, seeds);
        java.util.Map<String, Results> transferResults = new java.util.LinkedHashMap<>();
        for (Dataset t : transfers) {
            if (transferResults.put(t.name(), new Results(fractions, seeds)) != null) throw new IllegalArgumentException("--downstream: " + t.name() + " is named twice");
        }
        long t0 = System.nanoTime();
        Tensor heldImages = null, heldTargets = null;
        if (teacher != null) {
            ImageSet test = downstream.test();
            ImageSet held = test.subset(InitialSubset.range(0, Math.min(HELD_OUT, test.count())));
            heldImages = held.toTensor(backend, downstream.normalization());
            NdArray t = Teacher.representations(teacher.encoder(), teacher.theta(), held, downstream.normalization(), 256, backend);
            heldTargets = Tensor.of(backend, Shape.of(t.shape()), t.toFloats());
        }
        if (teacher != null && teacherRows) {
            NdArray fTest = Teacher.representations(teacher.encoder(), teacher.theta(), downstream.test(), downstream.normalization(), 256, backend);
            double[][] acc = new double[fractions.length][seeds.length], accRandom = new double[fractions.length][seeds.length];
            for (int s = 0; s < seeds.length; s++) {
                double[] a = Evaluate.probe(teacher.encoder(), teacher.theta(), fTest, downstream, fractions, settings, seeds[s], backend);
                log(log, TEACHER, seeds[s], a, fractions, t0);
                try (Scope one = Scope.open()) {
                    Encoder fresh = teacher.fresh().get();
                    Tensor random = Teacher.randomInit(fresh, teacher.trainImages(), downstream.normalization(), Seeds.of(seeds[s], 0x7261), backend);
                    double[] b = Evaluate.probe(fresh, random, downstream, fractions, settings, seeds[s], backend);
                    log(log, RANDOM_TEACHER, seeds[s], b, fractions, t0);
                    for (int i = 0; i < fractions.length; i++) {
                        acc[i][s] = a[i];
                        accRandom[i][s] = b[i];
                    }
                }
            }
            results.add(new Results.Row(TEACHER, 0, Double.NaN, acc, null));
            results.add(new Results.Row(RANDOM_TEACHER, 0, Double.NaN, accRandom, null));
        }
        Encoder probed = settings.probeAt().of(student);
        for (Evaluate.PretrainSet set : sets) {
            double[][] acc = new double[fractions.length][seeds.length];
            double[][][] transferAcc = new double[transfers.size()][fractions.length][seeds.length];
            double[] held = heldImages == null ? null : new double[seeds.length];
            for (int s = 0; s < seeds.length; s++) {
                try (Scope one = Scope.open()) {
                    Tensor theta = Evaluate.pretrain(student, set, settings, seeds[s], backend);
                    double[] a = Evaluate.probe(probed, theta, downstream, fractions, settings, seeds[s], backend);
                    for (int i = 0; i < fractions.length; i++) acc[i][s] = a[i];
                    if (held != null) held[s] = Evaluate.kdError(student, theta, heldImages, heldTargets);
                    log(log, set.name(), seeds[s], a, fractions, t0);
                    for (int d = 0; d < transfers.size(); d++) {
                        double[] b = Evaluate.probe(probed, theta, transfers.get(d), fractions, settings, seeds[s], backend);
                        for (int i = 0; i < fractions.length; i++) transferAcc[d][i][s] = b[i];
                        log(log, set.name() + " -> " + transfers.get(d).name(), seeds[s], b, fractions, t0);
                    }
                }
            }
            results.add(new Results.Row(set.name(), set.size(), set.lr(), acc, held));
            for (int d = 0; d < transfers.size(); d++) {
                transferResults.get(transfers.get(d).name()).add(new Results.Row(set.name(), set.size(), set.lr(), transferAcc[d], null));
            }
        }
        return new Outcome(results, new Checks(results, rowNames(initMethod)), transferResults);
    }

    private static void log(Consumer<String> log, String name, long seed, double[] a, double[] fractions, long t0) {
        if (log == null) return;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < a.length; i++) sb.append(i > 0 ? ", " : "").append(String.format("%.2f%% at %s labels", 100 * a[i], Results.pct(fractions[i])));
        log.accept(String.format("eval: %-36s seed %d: %s (%.0f s)", name, seed, sb, (System.nanoTime() - t0) / 1e9));
    }

    /** Seeds base, base + 1, ...: the protocol's seeds. */
    public static long[] seeds(long base, int count) {
        long[] out = new long[count];
        for (int s = 0; s < count; s++) out[s] = base + s;
        return out;
    }
}
