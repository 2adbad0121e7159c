package org.mkdt.stages;

import java.util.List;
import java.util.function.Consumer;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.PermutationSampler;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.autograd.Autograd;
import org.mkdt.autograd.GradMode;
import org.mkdt.backend.Backend;
import org.mkdt.data.Augment;
import org.mkdt.data.ImageSet;
import org.mkdt.data.Normalization;
import org.mkdt.io.NdArray;
import org.mkdt.nn.Encoder;
import org.mkdt.nn.Projector;
import org.mkdt.ops.Loss;
import org.mkdt.optim.Sgd;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * MKDT stage 1, the teacher: an encoder (its features are the representation: ResNet-18's or
 * a ConvNet's pooled map, or a ConvNet's flattened map) trained with Barlow Twins through a projector MLP on two augmented views
 * of each image, then applied to every un-augmented training image in order.
 */
public final class Teacher {
    /**
     * Training settings; lambda is the off-diagonal weight of the Barlow Twins loss; the lr rises
     * linearly from lr / steps-of-warm-up to lr over the first warmupEpochs, then stays; cropMin
     * is the smallest area fraction of the views' random resized crops.
     */
    public record Settings(int epochs, int warmupEpochs, int batch, double lr, double momentum, double weightDecay, int projectorDim, double lambda,
                           double cropMin, long seed) {
        public Settings {
            if (epochs < 1 || warmupEpochs < 0 || batch < 2 || !(lr > 0) || momentum < 0 || momentum >= 1 || weightDecay < 0 || projectorDim < 1 || lambda < 0
                    || !(cropMin > 0) || cropMin > 1) {
                throw new IllegalArgumentException("teacher settings out of range: " + epochs + " epochs, batch " + batch + " (at least 2), lr " + lr
                        + ", momentum " + momentum + ", weight decay " + weightDecay + ", projector " + projectorDim + ", lambda " + lambda
                        + ", crop area from " + cropMin);
            }
        }
    }

    /** The trained encoder's parameters and the mean Barlow Twins loss of each epoch. */
    public record Result(Tensor encoderTheta, double[] epochLoss) {}

    private Teacher() {}

    public static Result train(Encoder encoder, ImageSet images, Normalization norm, Settings s, Backend backend, Consumer<String> log) {
        return train(encoder, images, norm, s, backend, log, null, null);
    }

    /**
     * As above; {@code onStep} (may be null) runs after every optimiser step, for progress
     * display; {@code afterEpoch} (may be null) sees the 1-based epoch and the encoder's
     * parameters after it (read them, do not keep or change them): a probe of the teacher as it trains.
     */
    public static Result train(Encoder encoder, ImageSet images, Normalization norm, Settings s, Backend backend, Consumer<String> log, Runnable onStep,
                               java.util.function.ObjIntConsumer<Tensor> afterEpoch) {
        int n = images.count();
        if (n < s.batch()) throw new IllegalArgumentException("teacher: " + n + " images cannot fill a batch of " + s.batch());
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(org.mkdt.util.Seeds.of(s.seed(), 0x7465616368L));
        Projector projector = new Projector(encoder.featureDim(), s.projectorDim());
        Tensor theta = encoder.initialParams(backend, DType.F32, rng.nextLong()).requireGrad();
        Tensor phi = Tensor.of(backend, DType.F32, Shape.of(projector.layout().size()), projector.layout().pytorchDefaultInit(rng.nextLong())).requireGrad();
        Sgd encOpt = new Sgd(theta, s.lr(), s.momentum(), s.weightDecay());
        Sgd projOpt = new Sgd(phi, s.lr(), s.momentum(), s.weightDecay());
        double[] epochLoss = new double[s.epochs()];
        int[] order = PermutationSampler.natural(n);
        int stepsPerEpoch = n / s.batch(), warmupSteps = s.warmupEpochs() * stepsPerEpoch, stepIndex = 0;
        for (int epoch = 0; epoch < s.epochs(); epoch++) {
            PermutationSampler.shuffle(rng, order);
            double sum = 0;
            int steps = 0;
            for (int start = 0; start + s.batch() <= n; start += s.batch()) { // full batches: BT needs batch statistics
                int[] idx = java.util.Arrays.copyOfRange(order, start, start + s.batch());
                try (Scope step = Scope.open()) {
                    Tensor v1 = views(images, idx, norm, s.cropMin(), rng, backend), v2 = views(images, idx, norm, s.cropMin(), rng, backend);
                    Tensor loss = Loss.barlowTwins(projector.forward(phi, encoder.features(theta, v1, true)),
                            projector.forward(phi, encoder.features(theta, v2, true)), s.lambda());
                    List<Tensor> g = Autograd.grad(loss, List.of(theta, phi), false);
                    double l = loss.item();
                    if (!Double.isFinite(l)) throw new IllegalStateException("teacher: Barlow Twins loss became " + l + " in epoch " + (epoch + 1) + " (lr too high?)");
                    double lr = stepIndex < warmupSteps ? s.lr() * (stepIndex + 1) / warmupSteps : s.lr();
                    encOpt.step(theta, g.get(0), lr);
                    projOpt.step(phi, g.get(1), lr);
                    stepIndex++;
                    sum += l;
                    steps++;
                }
                if (onStep != null) onStep.run();
            }
            epochLoss[epoch] = sum / steps;
            if (log != null) log.accept(String.format("teacher epoch %d/%d: Barlow Twins loss %.4f", epoch + 1, s.epochs(), epochLoss[epoch]));
            if (afterEpoch != null) afterEpoch.accept(theta.detach(), epoch + 1); // not under noGrad: a probe fits by gradients
        }
        return new Result(theta.detach(), epochLoss);
    }

    /** Augmented, normalised views of images[idx] as one float32 tensor (B, C, H, W). */
    public static Tensor views(ImageSet images, int[] idx, Normalization norm, double cropMin, UniformRandomProvider rng, Backend backend) {
        int c = images.channels(), h = images.height(), w = images.width(), size = c * h * w, plane = h * w;
        float[] out = new float[idx.length * size];
        float[] img = new float[size];
        byte[] px = images.pixels();
        for (int i = 0; i < idx.length; i++) {
            for (int j = 0; j < size; j++) img[j] = (px[idx[i] * size + j] & 0xff) / 255f;
            float[] v = Augment.view(img, c, h, w, cropMin, rng);
            for (int j = 0; j < size; j++) {
                int ch = j / plane;
                out[i * size + j] = (float) ((v[j] - norm.mean()[ch]) / norm.std()[ch]);
            }
        }
        return Tensor.of(backend, Shape.of(idx.length, c, h, w), out);
    }

    /** Training-mode batches that calibrate a random encoder's batch-norm statistics (0.9^30: 4% of the start left). */
    static final int CALIBRATION_BATCHES = 30;

    /**
     * Random-init features, the baseline a teacher must beat: seeded PyTorch-default parameters
     * for a fresh encoder and, where it has batch norm, running statistics calibrated on
     * {@code images} by training-mode passes without gradients. Uncalibrated (mean 0, var 1) a
     * deep BN network's random features all but vanish and probe at chance, which would make
     * any teacher look good.
     */
    public static Tensor randomInit(Encoder fresh, ImageSet images, Normalization norm, long seed, Backend backend) {
        Tensor theta = fresh.initialParams(backend, DType.F32, seed);
        if (fresh.buffers().isEmpty()) return theta;
        int n = images.count(), batch = Math.min(256, n);
        try (GradMode.Guard off = GradMode.noGrad()) {
            for (int b = 0; b < CALIBRATION_BATCHES; b++) {
                int[] idx = new int[batch];
                for (int i = 0; i < batch; i++) idx[i] = (b * batch + i) % n;
                try (Scope s = Scope.open()) {
                    fresh.features(theta, images.subset(idx).toTensor(backend, norm), true);
                }
            }
        }
        return theta;
    }

    /** The encoder's features of every image, in order, un-augmented: the (N, D) representations. */
    public static NdArray representations(Encoder encoder, Tensor theta, ImageSet images, Normalization norm, int batch, Backend backend) {
        int n = images.count(), d = encoder.featureDim();
        float[] out = new float[n * d];
        try (GradMode.Guard off = GradMode.noGrad()) {
            for (int start = 0; start < n; start += batch) {
                int[] idx = InitialSubset.range(start, Math.min(n, start + batch));
                try (Scope s = Scope.open()) {
                    float[] f = encoder.features(theta, images.subset(idx).toTensor(backend, norm), false).toFloatArray();
                    System.arraycopy(f, 0, out, start * d, f.length);
                }
            }
        }
        return NdArray.of(out, n, d);
    }
}
