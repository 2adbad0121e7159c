package org.mkdt.check;

import java.util.ArrayList;
import java.util.List;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.autograd.Autograd;
import org.mkdt.backend.Backend;
import org.mkdt.data.Augment;
import org.mkdt.data.ImageSet;
import org.mkdt.data.Normalization;
import org.mkdt.io.NdArray;
import org.mkdt.metagrad.MinibatchSchedule;
import org.mkdt.nn.ConvNet;
import org.mkdt.nn.Projector;
import org.mkdt.ops.Loss;
import org.mkdt.ops.Rows;
import org.mkdt.optim.Sgd;
import org.mkdt.stages.Teacher;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.util.Seeds;

/**
 * {@code check variance}: the measurement behind MKDT's central claim. Trajectory matching needs
 * expert trajectories that a few steps on a small set can imitate; a self-supervised loss
 * (Barlow Twins: a function of the whole batch and of random augmentations) gives noisy
 * gradients and so trajectories that scatter, while knowledge distillation (per-image MSE to
 * fixed teacher vectors) gives steady ones.
 *
 * <p>Both losses train the same ConvNet encoder from the same initialisation, so the gradients
 * compared are those of the encoder's parameters (the conv blocks; the KD head and the BT
 * projector are each loss's own). Two figures per loss:
 * <ul>
 *   <li><b>gradient noise</b> at the initialisation: K minibatches of b images, gradient g_i of
 *       each; relative variance = sum_i ||g_i - mean||^2 / (K - 1) / ||mean||^2 (the gradient
 *       covariance's trace over the squared mean: above 1, one minibatch's gradient is mostly
 *       noise), and the mean cosine between a minibatch's gradient and the mean of the others;</li>
 *   <li><b>trajectory spread</b>: R runs of T SGD steps (momentum 0.9) from that one
 *       initialisation, differing only in minibatch order (and, for BT, augmentations); the
 *       mean distance between two runs' end points over the mean distance travelled.</li>
 * </ul>
 * For BT a third row holds the minibatch fixed and redraws only the augmentations.
 */
public final class GradientVariance {
    /**
     * @param width        the ConvNet's channels (depth 3, 32x32)
     * @param batch        images per minibatch, both losses
     * @param minibatches  K, for the gradient noise
     * @param runs         R, trajectories per loss
     * @param steps        T, SGD steps per trajectory
     * @param kdLr         KD's lr (the experts')
     * @param btLr         BT's lr (the demo teacher's)
     * @param projectorDim the BT projector's width
     * @param lambda       BT's off-diagonal weight
     */
    public record Settings(int width, int batch, int minibatches, int runs, int steps, double kdLr, double btLr, int projectorDim, double lambda, long seed) {
        public Settings {
            if (width < 1 || batch < 2 || minibatches < 2 || runs < 2 || steps < 1 || !(kdLr > 0) || !(btLr > 0) || projectorDim < 1 || lambda < 0) {
                throw new IllegalArgumentException("check variance: settings out of range (width " + width + ", batch " + batch + " >= 2, minibatches "
                        + minibatches + " >= 2, runs " + runs + " >= 2, steps " + steps + ")");
            }
        }

        public static Settings defaults(long seed) {
            return new Settings(32, 128, 12, 3, 16, 0.1, 0.005, 512, 0.005, seed);
        }
    }

    /** One loss's gradient noise: relative variance, mean cosine to the others' mean, and the mean gradient's norm. */
    public record Noise(String what, double relativeVariance, double meanCosine, double meanNorm) {}

    /**
     * One loss's trajectories, in parameters (the encoder's) and in function (its features of
     * held-out images): mean distance travelled from the start, mean distance between two runs'
     * end points.
     */
    public record Spread(String what, double travelled, double pairwise, double featureTravelled, double featurePairwise) {
        public double ratio() {
            return pairwise / travelled;
        }

        public double featureRatio() {
            return featurePairwise / featureTravelled;
        }
    }

    /** Gradient noise at the start (kd, bt, btAugmentations) and at the end of the first run of each loss (kdEnd, btEnd). */
    public record Report(Settings settings, int images, String teacher, Noise kd, Noise bt, Noise btAugmentations, Noise kdEnd, Noise btEnd,
                         Spread kdRuns, Spread btRuns) {}

    private GradientVariance() {}

    /**
     * @param teacherReps the KD targets, one row per image of {@code images}; null: the flattened
     *                    features of a randomly initialised ConvNet of the same shape (seeded)
     */
    public static Report measure(ImageSet images, ImageSet heldOut, Normalization norm, NdArray teacherReps, Settings s, Backend backend) {
        int n = images.count();
        if (n < 2 * s.batch()) throw new IllegalArgumentException("check variance: " + n + " images, need at least 2 minibatches of " + s.batch());
        if (images.height() != 32 || images.width() != 32) throw new IllegalArgumentException("check variance: needs 32x32 images, got " + images.width() + "x" + images.height());
        ConvNet shape = new ConvNet(images.channels(), 32, s.width(), 3, 1);
        String teacher;
        try (Scope outer = Scope.open()) {
            Tensor x = images.toTensor(backend, norm);
            Tensor y;
            if (teacherReps == null) {
                Tensor t = shape.initialParams(backend, DType.F32, Seeds.of(s.seed(), 0x7465L));
                y = Tensor.of(backend, Shape.of(n, shape.featureDim()), Teacher.representations(shape, t, images, norm, 256, backend).toFloats());
                teacher = "a random-init ConvNet-3 of width " + s.width() + " (its " + shape.featureDim() + "-d flat features)";
            } else {
                int[] dims = teacherReps.shape();
                if (dims.length != 2 || dims[0] < n) throw new IllegalArgumentException("check variance: teacher representations " + teacherReps.describe() + " need at least " + n + " rows");
                float[] all = teacherReps.toFloats();
                y = Tensor.of(backend, Shape.of(n, dims[1]), java.util.Arrays.copyOf(all, n * dims[1]));
                teacher = "the given teacher's " + dims[1] + "-d representations";
            }
            ConvNet net = new ConvNet(images.channels(), 32, s.width(), 3, y.shape().dim(1));
            Projector projector = new Projector(net.featureDim(), s.projectorDim());
            int encoder = net.layout().entry("head.w").offset();
            Tensor theta0 = net.initialParams(backend, DType.F32, Seeds.of(s.seed(), 0x73L));
            Tensor phi0 = Tensor.of(backend, DType.F32, Shape.of(projector.layout().size()), projector.layout().pytorchDefaultInit(Seeds.of(s.seed(), 0x70L)));
            Losses losses = new Losses(net, projector, images, norm, x, y, s.lambda(), backend);

            MinibatchSchedule batches = MinibatchSchedule.random(n, s.batch(), s.minibatches(), Seeds.of(s.seed(), 0x6bL));
            List<double[]> kd = new ArrayList<>(), bt = new ArrayList<>(), aug = new ArrayList<>();
            UniformRandomProvider augRng = RandomSource.XO_RO_SHI_RO_128_PP.create(Seeds.of(s.seed(), 0x61L));
            for (int k = 0; k < s.minibatches(); k++) {
                int[] idx = full(batches, k, s.batch(), n);
                kd.add(encoderPart(losses.kdGrad(theta0, idx), encoder));
                bt.add(encoderPart(losses.btGrads(theta0, phi0, idx, augRng).get(0), encoder));
                aug.add(encoderPart(losses.btGrads(theta0, phi0, full(batches, 0, s.batch(), n), augRng).get(0), encoder));
            }
            Noise kdNoise = noise("KD (MSE to the teacher)", kd), btNoise = noise("Barlow Twins", bt);
            Noise augNoise = noise("Barlow Twins, one minibatch, new augmentations", aug);

            Tensor probe = heldOut.toTensor(backend, norm);
            List<Tensor[]> kdEnds = new ArrayList<>(), btEnds = new ArrayList<>();
            Spread kdSpread = spread("KD (MSE to the teacher)", net, theta0, probe, encoder, s, kdEnds, run -> {
                Tensor theta = copy(theta0).requireGrad();
                Sgd sgd = new Sgd(theta, s.kdLr(), 0.9, 0);
                MinibatchSchedule order = MinibatchSchedule.random(n, s.batch(), s.steps(), Seeds.of(s.seed(), 0x72L, run));
                for (int k = 0; k < s.steps(); k++) {
                    try (Scope step = Scope.open()) {
                        sgd.step(theta, losses.kdGrad(theta, full(order, k, s.batch(), n)));
                    }
                }
                return new Tensor[] {theta.detach()};
            });
            Spread btSpread = spread("Barlow Twins", net, theta0, probe, encoder, s, btEnds, run -> {
                Tensor theta = copy(theta0).requireGrad(), phi = copy(phi0).requireGrad();
                Sgd sgd = new Sgd(theta, s.btLr(), 0.9, 0), projSgd = new Sgd(phi, s.btLr(), 0.9, 0);
                MinibatchSchedule order = MinibatchSchedule.random(n, s.batch(), s.steps(), Seeds.of(s.seed(), 0x72L, run));
                UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(Seeds.of(s.seed(), 0x62L, run));
                for (int k = 0; k < s.steps(); k++) {
                    try (Scope step = Scope.open()) {
                        List<Tensor> g = losses.btGrads(theta, phi, full(order, k, s.batch(), n), rng);
                        sgd.step(theta, g.get(0));
                        projSgd.step(phi, g.get(1));
                    }
                }
                return new Tensor[] {theta.detach(), phi.detach()};
            });
            List<double[]> kdAtEnd = new ArrayList<>(), btAtEnd = new ArrayList<>();
            for (int k = 0; k < s.minibatches(); k++) {
                int[] idx = full(batches, k, s.batch(), n);
                kdAtEnd.add(encoderPart(losses.kdGrad(kdEnds.get(0)[0], idx), encoder));
                btAtEnd.add(encoderPart(losses.btGrads(btEnds.get(0)[0], btEnds.get(0)[1], idx, augRng).get(0), encoder));
            }
            Noise kdEnd = noise("KD (MSE to the teacher)", kdAtEnd), btEnd = noise("Barlow Twins", btAtEnd);
            return new Report(s, n, teacher, kdNoise, btNoise, augNoise, kdEnd, btEnd, kdSpread, btSpread);
        }
    }

    /** The two losses on one encoder. */
    private record Losses(ConvNet net, Projector projector, ImageSet images, Normalization norm, Tensor x, Tensor y, double lambda, Backend backend) {
        Tensor kdGrad(Tensor theta, int[] idx) {
            try (Scope s = Scope.open()) {
                Tensor leaf = theta.detach().requireGrad();
                Tensor loss = Loss.mse(net.forward(leaf, Rows.gather(x, idx)), Rows.gather(y, idx));
                return s.keep(Autograd.grad(loss, List.of(leaf), false).get(0));
            }
        }

        List<Tensor> btGrads(Tensor theta, Tensor phi, int[] idx, UniformRandomProvider rng) {
            try (Scope s = Scope.open()) {
                Tensor t = theta.detach().requireGrad(), p = phi.detach().requireGrad();
                Tensor v1 = Teacher.views(images, idx, norm, Augment.DEFAULT_CROP_MIN, rng, backend), v2 = Teacher.views(images, idx, norm, Augment.DEFAULT_CROP_MIN, rng, backend);
                Tensor loss = Loss.barlowTwins(projector.forward(p, net.features(t, v1)), projector.forward(p, net.features(t, v2)), lambda);
                List<Tensor> g = Autograd.grad(loss, List.of(t, p), false);
                return List.of(s.keep(g.get(0)), s.keep(g.get(1)));
            }
        }
    }

    /** Step k's minibatch, always b images (a short last chunk is topped up from the start of the set). */
    private static int[] full(MinibatchSchedule schedule, int k, int b, int n) {
        int[] idx = schedule.batch(k);
        if (idx.length == b) return idx;
        int[] out = java.util.Arrays.copyOf(idx, b);
        for (int i = idx.length; i < b; i++) out[i] = (i - idx.length) % n;
        return out;
    }

    /** A fresh tensor with t's values: SGD updates in place, and every run must start from the same point. */
    private static Tensor copy(Tensor t) {
        return Tensor.of(t.backend(), t.dtype(), t.shape(), t.toDoubleArray());
    }

    private static double[] encoderPart(Tensor g, int encoder) {
        return java.util.Arrays.copyOf(g.toDoubleArray(), encoder);
    }

    static Noise noise(String what, List<double[]> grads) {
        int k = grads.size(), p = grads.get(0).length;
        double[] mean = new double[p];
        for (double[] g : grads) for (int i = 0; i < p; i++) mean[i] += g[i] / k;
        double var = 0, cos = 0;
        for (double[] g : grads) {
            double[] others = new double[p];
            for (int i = 0; i < p; i++) {
                double d = g[i] - mean[i];
                var += d * d;
                others[i] = (mean[i] * k - g[i]) / (k - 1);
            }
            cos += dot(g, others) / Math.sqrt(dot(g, g) * dot(others, others));
        }
        double signal = dot(mean, mean);
        return new Noise(what, var / (k - 1) / signal, cos / k, Math.sqrt(signal));
    }

    /** One trajectory: its end point (theta, and the projector's phi for BT). */
    private interface Run {
        Tensor[] endPoint(int run);
    }

    /** Runs {@code body} s.runs() times (end points into {@code ends}) and measures their spread. */
    private static Spread spread(String what, ConvNet net, Tensor theta0, Tensor probe, int encoder, Settings s, List<Tensor[]> ends, Run body) {
        List<double[]> params = new ArrayList<>(), features = new ArrayList<>();
        params.add(java.util.Arrays.copyOf(theta0.toDoubleArray(), encoder));
        features.add(features(net, theta0, probe));
        for (int r = 0; r < s.runs(); r++) {
            Tensor[] end = body.endPoint(r);
            ends.add(end);
            params.add(java.util.Arrays.copyOf(end[0].toDoubleArray(), encoder));
            features.add(features(net, end[0], probe));
        }
        double[] p = distances(params), f = distances(features);
        return new Spread(what, p[0], p[1], f[0], f[1]);
    }

    private static double[] features(ConvNet net, Tensor theta, Tensor x) {
        try (Scope s = Scope.open(); org.mkdt.autograd.GradMode.Guard off = org.mkdt.autograd.GradMode.noGrad()) {
            return net.features(theta, x).toDoubleArray();
        }
    }

    /** Mean distance of points 1.. from point 0, and mean distance between two of points 1... */
    private static double[] distances(List<double[]> points) {
        int r = points.size() - 1, pairs = 0;
        double travelled = 0, pairwise = 0;
        for (int a = 1; a <= r; a++) {
            travelled += distance(points.get(a), points.get(0)) / r;
            for (int b = a + 1; b <= r; b++) {
                pairwise += distance(points.get(a), points.get(b));
                pairs++;
            }
        }
        return new double[] {travelled, pairwise / pairs};
    }

    private static double distance(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.sqrt(s);
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
