package org.mkdt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.mkdt.backend.Backend;
import org.mkdt.check.GradientVariance;
import org.mkdt.check.GradientVariance.Noise;
import org.mkdt.check.GradientVariance.Report;
import org.mkdt.check.GradientVariance.Spread;
import org.mkdt.data.Artefacts;
import org.mkdt.data.Dataset;
import org.mkdt.data.Datasets;
import org.mkdt.data.ImageSet;
import org.mkdt.io.NdArray;

/** {@code check variance}: {@link GradientVariance} on the first images of a data set, as a table or JSON. */
final class VarianceReport {
    /** Test images whose features measure how far the runs' functions differ. */
    static final int HELD_OUT = 256;

    private VarianceReport() {}

    static void print(PrintWriter out, boolean json, String data, Path dataDir, int count, Path teacherFile, GradientVariance.Settings s, Backend backend) throws Exception {
        long t0 = System.nanoTime();
        Dataset ds = Datasets.load(data, dataDir);
        if (count < 2 || count > ds.train().count()) {
            throw new IllegalArgumentException("--images: " + count + " is out of range (2 .. " + ds.train().count() + " training images in " + ds.name() + ")");
        }
        ImageSet images = ds.train().subset(java.util.stream.IntStream.range(0, count).toArray());
        NdArray reps = teacherFile == null ? null : Artefacts.readTeacher(teacherFile, -1).representations();
        ImageSet heldOut = ds.test().subset(java.util.stream.IntStream.range(0, Math.min(HELD_OUT, ds.test().count())).toArray());
        Report r = GradientVariance.measure(images, heldOut, ds.normalization(), reps, s, backend);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("check", "variance");
            doc.put("data", ds.name());
            doc.put("images", r.images());
            doc.put("teacher", r.teacher());
            doc.put("settings", s);
            doc.put("gradient_noise", new Noise[] {r.kd(), r.bt(), r.btAugmentations()});
            doc.put("gradient_noise_after_training", new Noise[] {r.kdEnd(), r.btEnd()});
            doc.put("trajectories", new Object[] {spread(r.kdRuns(), s.kdLr()), spread(r.btRuns(), s.btLr())});
            doc.put("seconds", seconds);
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
            return;
        }
        out.printf("KD against Barlow Twins on one encoder: ConvNet-3 width %d, %d %s training images, batch %d, seed %d%n",
                s.width(), r.images(), ds.name(), s.batch(), s.seed());
        out.printf("KD targets: %s; gradients of the encoder's conv parameters (the KD head and the BT projector left out)%n", r.teacher());
        out.printf("%n1. gradient noise at the initialisation, %d minibatches of %d%n", s.minibatches(), s.batch());
        out.printf("   %-48s %18s %14s%n", "loss", "relative variance", "cosine");
        for (Noise n : new Noise[] {r.kd(), r.bt(), r.btAugmentations()}) out.printf("   %-48s %18.3f %14.3f%n", n.what(), n.relativeVariance(), n.meanCosine());
        out.printf("   after the %d steps of the first run of part 2:%n", s.steps());
        for (Noise n : new Noise[] {r.kdEnd(), r.btEnd()}) out.printf("   %-48s %18.3f %14.3f%n", n.what(), n.relativeVariance(), n.meanCosine());
        out.printf("   relative variance: sum ||g_i - mean||^2 / (K-1) / ||mean||^2; cosine: a minibatch's gradient against the mean of the others%n");
        out.printf("%n2. trajectories: %d runs of %d SGD steps (momentum 0.9) from that initialisation, differing in minibatch order (BT: and augmentations)%n",
                s.runs(), s.steps());
        out.printf("   %-32s %12s %12s %8s   %12s %12s %8s%n", "", "parameters:", "", "", "features:", "", "");
        out.printf("   %-32s %12s %12s %8s   %12s %12s %8s%n", "loss", "travelled", "between runs", "ratio", "travelled", "between runs", "ratio");
        for (Spread sp : new Spread[] {r.kdRuns(), r.btRuns()}) {
            String label = sp.what().startsWith("KD") ? "KD, lr " + s.kdLr() : "Barlow Twins, lr " + s.btLr();
            out.printf("   %-32s %12.4f %12.4f %8.3f   %12.4f %12.4f %8.3f%n", label, sp.travelled(), sp.pairwise(), sp.ratio(),
                    sp.featureTravelled(), sp.featurePairwise(), sp.featureRatio());
        }
        out.printf("   parameters: the encoder's; features: its flat features of %d test images; travelled: mean distance from the start;%n"
                + "   between runs: mean distance between two runs' end points; ratio: the second over the first%n", HELD_OUT);
        out.printf("%nRelative gradient variance, Barlow Twins over KD: %.0fx at the start, %.0fx after %d steps; end-point spread over distance travelled,%n"
                + "Barlow Twins over KD: %.2fx in parameters, %.2fx in features (docs/trajectory-matching.md explains these). %.1f s%n",
                r.bt().relativeVariance() / r.kd().relativeVariance(), r.btEnd().relativeVariance() / r.kdEnd().relativeVariance(), s.steps(),
                r.btRuns().ratio() / r.kdRuns().ratio(), r.btRuns().featureRatio() / r.kdRuns().featureRatio(), seconds);
    }

    private static Map<String, Object> spread(Spread s, double lr) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("what", s.what());
        m.put("lr", lr);
        m.put("travelled", s.travelled());
        m.put("between_runs", s.pairwise());
        m.put("ratio", s.ratio());
        return m;
    }
}
