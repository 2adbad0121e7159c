package org.mkdt.stages;

import org.mkdt.backend.Backend;
import org.mkdt.data.Dataset;
import org.mkdt.data.ImageSet;
import org.mkdt.io.NdArray;
import org.mkdt.nn.ConvNet;
import org.mkdt.nn.Encoder;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * The evaluation protocol's two steps: pre-train a fresh student on a set by knowledge
 * distillation (MSE to its targets, SGD momentum 0.9, weight decay 1e-4, batch 256, 20 epochs,
 * at the set's learning rate), then freeze it and fit a linear probe on its flattened conv
 * features with a seeded 1% or 5% of the downstream training labels; test accuracy. Also the
 * held-out KD error: how close a pre-trained student's output is to the teacher's on images
 * no pre-training set contains.
 *
 * <p>Pre-training is exactly an expert's training ({@link Experts#train}) on the set, so the
 * student's initialisation for seed s is the same for every set, and "no pre-training" probes
 * that very initialisation.
 */
public final class Evaluate {
    /** Pre-training and probe settings; {@link #reference()} is the protocol's, with the converged probe. */
    public record Settings(int epochs, int batch, double momentum, double weightDecay, int probeIterations, LinearProbe.Protocol probe, ProbeAt probeAt) {
        public static Settings reference() {
            return new Settings(20, 256, 0.9, 1e-4, LinearProbe.ITERATIONS, LinearProbe.Protocol.CONVERGED, ProbeAt.FEATURES);
        }
    }

    /**
     * What of a pre-trained student the probe reads. FEATURES: its flattened conv features, the
     * protocol's. HEAD: its output, the prediction of the teacher's representation: a
     * diagnostic. The head is linear, so a probe on it is a linear probe on the features too,
     * only regularised in another geometry; where HEAD beats FEATURES, knowledge distillation
     * put the teacher's information into the features where the protocol's probe, with few
     * labels, does not weight it.
     */
    public enum ProbeAt {
        FEATURES, HEAD;

        public static ProbeAt parse(String s) {
            return switch (s) {
                case "features" -> FEATURES;
                case "head" -> HEAD;
                default -> throw new IllegalArgumentException("--probe-at must be features or head, got " + s);
            };
        }

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** The encoder whose output the probe reads for a student {@code net}. */
        public Encoder of(ConvNet net) {
            return this == FEATURES ? net : new org.mkdt.nn.HeadOutput(net);
        }
    }

    /**
     * A pre-training set: images (M, C, S, S) normalised, targets (M, D), the lr to train with.
     * {@code images == null} is the "no pre-training" baseline.
     */
    public record PretrainSet(String name, Tensor images, Tensor targets, double lr) {
        public static PretrainSet none(String name) {
            return new PretrainSet(name, null, null, Evaluation.SUBSET_LR);
        }

        public int size() {
            return images == null ? 0 : images.shape().dim(0);
        }
    }

    private Evaluate() {}

    /** The student's parameters after pre-training on {@code set} with seed {@code seed} (its initialisation for "none"). */
    public static Tensor pretrain(ConvNet net, PretrainSet set, Settings s, long seed, Backend backend) {
        if (set.images() == null) return net.initialParams(backend, DType.F32, Experts.rng(seed, 0).nextLong());
        Experts.Settings es = new Experts.Settings(s.epochs(), s.batch(), set.lr(), s.momentum(), s.weightDecay(), seed);
        NdArray trajectory = Experts.train(net, set.images(), set.targets(), es, 0);
        int p = net.numParams();
        float[] all = trajectory.toFloats();
        return Tensor.of(backend, Shape.of(p), java.util.Arrays.copyOfRange(all, s.epochs() * p, (s.epochs() + 1) * p));
    }

    /**
     * Linear-probe test accuracy of the frozen encoder {@code theta} for each label fraction;
     * the labelled subset for fraction f and seed s is {@link LinearProbe#labelledSubset}(n, f, s),
     * drawn from the whole downstream training set.
     */
    public static double[] probe(Encoder encoder, Tensor theta, Dataset downstream, double[] fractions, Settings s, long seed, Backend backend) {
        try (Scope scope = Scope.open()) {
            NdArray fTest = Teacher.representations(encoder, theta, downstream.test(), downstream.normalization(), 256, backend);
            return probe(encoder, theta, fTest, downstream, fractions, s, seed, backend);
        }
    }

    /** The same with the test features already computed (a fixed encoder probed for several seeds computes them once). */
    public static double[] probe(Encoder encoder, Tensor theta, NdArray fTest, Dataset downstream, double[] fractions, Settings s, long seed, Backend backend) {
        double[] acc = new double[fractions.length];
        ImageSet test = downstream.test();
        for (int i = 0; i < fractions.length; i++) {
            int[] labelled = LinearProbe.labelledSubset(downstream.train().count(), fractions[i], seed);
            ImageSet train = downstream.train().subset(labelled);
            NdArray fTrain = Teacher.representations(encoder, theta, train, downstream.normalization(), 256, backend);
            LinearProbe.Model m = LinearProbe.fit(fTrain, train.labels(), train.classes().size(), LinearProbe.L2, s.probe(), s.probeIterations(), seed, backend);
            acc[i] = LinearProbe.accuracy(m, fTest, test.labels());
        }
        return acc;
    }

    /** Mean over images of the per-image MSE (mean over D) between the student's output and the targets: the KD error. */
    public static double kdError(ConvNet net, Tensor theta, Tensor images, Tensor targets) {
        double[] l = InitialSubset.perImageLoss(net, theta, images, targets, 256);
        double sum = 0;
        for (double v : l) sum += v;
        return sum / l.length;
    }
}
