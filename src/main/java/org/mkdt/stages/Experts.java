package org.mkdt.stages;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.PermutationSampler;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.autograd.Autograd;
import org.mkdt.data.Artefacts;
import org.mkdt.io.BadFileException;
import org.mkdt.io.NdArray;
import org.mkdt.nn.ConvNet;
import org.mkdt.ops.Loss;
import org.mkdt.ops.Rows;
import org.mkdt.optim.Sgd;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Tensor;

/**
 * MKDT stage 2: expert trajectories. Expert i is a fresh student trained by knowledge
 * distillation (MSE to the teacher's representations) with SGD; its parameters are recorded at
 * initialisation and after every epoch. Everything random about expert i (initialisation,
 * shuffling) derives from (base seed, i) alone, so experts can be made in any order, on any
 * machine, and a rerun reproduces one bit for bit on the CPU.
 */
public final class Experts {
    /** Training settings; {@link #reference()} is the paper's. */
    public record Settings(int epochs, int batch, double lr, double momentum, double weightDecay, long baseSeed) {
        public Settings {
            if (epochs < 1 || batch < 1 || !(lr > 0) || momentum < 0 || momentum >= 1 || weightDecay < 0) {
                throw new IllegalArgumentException("expert settings out of range: " + epochs + " epochs, batch " + batch + ", lr " + lr
                        + ", momentum " + momentum + ", weight decay " + weightDecay);
            }
        }

        /** SGD lr 0.1, momentum 0.9, weight decay 1e-4, batch 256, 20 epochs. */
        public static Settings reference(long baseSeed) {
            return new Settings(20, 256, 0.1, 0.9, 1e-4, baseSeed);
        }
    }

    private Experts() {}

    /** The generator of expert {@code index}: a function of (base seed, index) only. */
    static UniformRandomProvider rng(long baseSeed, int index) {
        return RandomSource.XO_RO_SHI_RO_128_PP.create(org.mkdt.util.Seeds.of(baseSeed, index, 0x4d4b4454L));
    }

    /**
     * Trains expert {@code index} on images (N, C, S, S) and their targets (N, D), float32.
     *
     * @return the trajectory, (epochs + 1, P): row 0 the initial parameters, row e after epoch e
     */
    public static NdArray train(ConvNet net, Tensor images, Tensor targets, Settings s, int index) {
        return train(net, images, targets, s, index, null);
    }

    /** As above; {@code onStep} (may be null) runs after every optimiser step, for progress display. */
    public static NdArray train(ConvNet net, Tensor images, Tensor targets, Settings s, int index, Runnable onStep) {
        int n = images.shape().dim(0);
        if (targets.shape().rank() != 2 || targets.shape().dim(0) != n || targets.shape().dim(1) != net.outDim()) {
            throw new IllegalArgumentException("experts: targets " + targets.shape() + " must be (" + n + ", " + net.outDim() + ") for images " + images.shape());
        }
        UniformRandomProvider rng = rng(s.baseSeed(), index);
        int p = net.numParams();
        float[] snapshots = new float[(s.epochs() + 1) * p];
        try (Scope outer = Scope.open()) {
            Tensor theta = net.initialParams(images.backend(), DType.F32, rng.nextLong()).requireGrad();
            Sgd sgd = new Sgd(theta, s.lr(), s.momentum(), s.weightDecay());
            System.arraycopy(theta.toFloatArray(), 0, snapshots, 0, p);
            int[] order = PermutationSampler.natural(n);
            for (int epoch = 1; epoch <= s.epochs(); epoch++) {
                PermutationSampler.shuffle(rng, order);
                for (int start = 0; start < n; start += s.batch()) {
                    int[] idx = java.util.Arrays.copyOfRange(order, start, Math.min(n, start + s.batch()));
                    try (Scope step = Scope.open()) {
                        Tensor loss = Loss.mse(net.forward(theta, Rows.gather(images, idx)), Rows.gather(targets, idx));
                        Tensor g = Autograd.grad(loss, List.of(theta), false).get(0);
                        if (!Double.isFinite(loss.item())) {
                            throw new IllegalStateException("expert " + index + ": loss became " + loss.item() + " in epoch " + epoch + " (lr too high?)");
                        }
                        sgd.step(theta, g);
                    }
                    if (onStep != null) onStep.run();
                }
                System.arraycopy(theta.toFloatArray(), 0, snapshots, epoch * p, p);
            }
        }
        return NdArray.of(snapshots, s.epochs() + 1, p);
    }

    /**
     * Trains expert {@code index} into {@code file} unless the file already holds a valid
     * trajectory for this student and this many epochs.
     *
     * @return true when it trained, false when it kept the finished file
     */
    public static boolean trainTo(Path file, ConvNet net, Tensor images, Tensor targets, Settings s, int index, String configHash) throws IOException {
        return trainTo(file, net, images, targets, s, index, configHash, null);
    }

    /** As above, with a per-step callback. */
    public static boolean trainTo(Path file, ConvNet net, Tensor images, Tensor targets, Settings s, int index, String configHash, Runnable onStep) throws IOException {
        if (Files.exists(file)) {
            try {
                Artefacts.Trajectory t = Artefacts.readTrajectory(file, net.layout());
                if (t.snapshots().shape()[0] == s.epochs() + 1 && configHash.equals(t.metadata().get("config_sha256"))) return false;
            } catch (BadFileException unreadable) {
                // An unreadable or foreign file is replaced (atomically) by a fresh run.
            }
        }
        Artefacts.writeTrajectory(file, train(net, images, targets, s, index, onStep), net.layout(), configHash);
        return true;
    }
}
