package org.mkdt.stages;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.PermutationSampler;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.autograd.Autograd;
import org.mkdt.backend.BinaryOp;
import org.mkdt.data.Artefacts;
import org.mkdt.io.BadFileException;
import org.mkdt.io.NdArray;
import org.mkdt.nn.BatchedConvNet;
import org.mkdt.nn.ConvNet;
import org.mkdt.ops.Loss;
import org.mkdt.ops.Reduce;
import org.mkdt.ops.Rows;
import org.mkdt.ops.Shaping;
import org.mkdt.optim.Sgd;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
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
        return trainBatched(net, images, targets, s, new int[] {index}, onStep).get(0);
    }

    /**
     * Trains the experts {@code indices} side by side as one batch of students
     * ({@link BatchedConvNet}): one forward, one backward and one SGD update per step for all of
     * them. Expert i keeps its own generator, so its trajectory is the one {@link #train} makes
     * for it alone, to the bit on the CPU (ExpertsTest checks this).
     *
     * @return the trajectories, in the order of {@code indices}
     */
    public static List<NdArray> trainBatched(ConvNet net, Tensor images, Tensor targets, Settings s, int[] indices, Runnable onStep) {
        int n = images.shape().dim(0);
        if (targets.shape().rank() != 2 || targets.shape().dim(0) != n || targets.shape().dim(1) != net.outDim()) {
            throw new IllegalArgumentException("experts: targets " + targets.shape() + " must be (" + n + ", " + net.outDim() + ") for images " + images.shape());
        }
        int students = indices.length;
        BatchedConvNet batch = new BatchedConvNet(net, students);
        UniformRandomProvider[] rngs = new UniformRandomProvider[students];
        long[] seeds = new long[students];
        for (int j = 0; j < students; j++) {
            rngs[j] = rng(s.baseSeed(), indices[j]);
            seeds[j] = rngs[j].nextLong();
        }
        int p = net.numParams();
        float[][] snapshots = new float[students][(s.epochs() + 1) * p];
        try (Scope outer = Scope.open()) {
            Tensor theta = batch.initialParams(images.backend(), DType.F32, seeds).requireGrad();
            Sgd sgd = new Sgd(theta, s.lr(), s.momentum(), s.weightDecay());
            record(batch, theta, snapshots, 0);
            int[][] order = new int[students][];
            for (int j = 0; j < students; j++) order[j] = PermutationSampler.natural(n);
            for (int epoch = 1; epoch <= s.epochs(); epoch++) {
                for (int j = 0; j < students; j++) PermutationSampler.shuffle(rngs[j], order[j]);
                // Each student's losses summed over the epoch, on the device: a NaN or Inf in any
                // step stays in the sum, so one check per epoch replaces a host round trip per step.
                Tensor epochLoss = Tensor.zeros(images.backend(), DType.F32, Shape.of(students));
                for (int start = 0; start < n; start += s.batch()) {
                    int b = Math.min(n, start + s.batch()) - start;
                    int[] idx = new int[students * b]; // student j's minibatch is rows [j*b, (j+1)*b)
                    for (int j = 0; j < students; j++) System.arraycopy(order[j], start, idx, j * b, b);
                    try (Scope step = Scope.open()) {
                        Tensor x = Shaping.reshape(Rows.gather(images, idx), Shape.of(students, b, images.shape().dim(1), images.shape().dim(2), images.shape().dim(3)));
                        Tensor y = Shaping.reshape(Rows.gather(targets, idx), Shape.of(students, b, net.outDim()));
                        Tensor losses = Loss.mseEach(batch.forward(theta, x), y);
                        Tensor g = Autograd.grad(Reduce.sumAll(losses), List.of(theta), false).get(0);
                        images.backend().binary(BinaryOp.ADD, epochLoss, losses.detach(), epochLoss);
                        sgd.step(theta, g);
                    }
                    if (onStep != null) onStep.run();
                }
                double[] each = epochLoss.toDoubleArray();
                for (int j = 0; j < students; j++) {
                    if (!Double.isFinite(each[j])) {
                        throw new IllegalStateException("expert " + indices[j] + ": the loss became " + each[j] + " in epoch " + epoch + " (lr too high?)");
                    }
                }
                epochLoss.storage().release();
                record(batch, theta, snapshots, epoch);
            }
        }
        List<NdArray> out = new ArrayList<>(students);
        for (float[] t : snapshots) out.add(NdArray.of(t, s.epochs() + 1, p));
        return out;
    }

    /** Row {@code row} of every student's trajectory from the packed parameters. */
    private static void record(BatchedConvNet batch, Tensor theta, float[][] snapshots, int row) {
        float[] packed = theta.toFloatArray();
        int p = batch.net().numParams();
        for (int j = 0; j < snapshots.length; j++) System.arraycopy(batch.unpack(packed, j), 0, snapshots[j], row * p, p);
    }

    /**
     * Trains expert {@code index} into {@code file} unless the file already holds a valid
     * trajectory for this student and this many epochs.
     *
     * @return true when it trained, false when it kept the finished file
     */
    public static boolean trainTo(Path file, ConvNet net, Tensor images, Tensor targets, Settings s, int index, Map<String, String> stamp) throws IOException {
        return trainTo(file, net, images, targets, s, index, stamp, null);
    }

    /** As above, with a per-step callback. */
    public static boolean trainTo(Path file, ConvNet net, Tensor images, Tensor targets, Settings s, int index, Map<String, String> stamp, Runnable onStep)
            throws IOException {
        if (finished(file, net, s, stamp, index)) return false;
        trainBatchedTo(List.of(file), net, images, targets, s, new int[] {index}, stamp, onStep);
        return true;
    }

    /**
     * Whether {@code file} holds a valid trajectory of this student, with this many epochs, made
     * under this stamp's configuration hash as expert {@code index}.
     */
    public static boolean finished(Path file, ConvNet net, Settings s, Map<String, String> stamp, int index) {
        if (!Files.exists(file)) return false;
        try {
            Artefacts.Trajectory t = Artefacts.readTrajectory(file, net.layout());
            return t.snapshots().shape()[0] == s.epochs() + 1 && stamp.get("config_sha256").equals(t.metadata().get("config_sha256"))
                    && Integer.toString(index).equals(t.metadata().getOrDefault(INDEX_KEY, Integer.toString(index)));
        } catch (BadFileException unreadable) {
            return false; // an unreadable or foreign file is replaced (atomically) by a fresh run
        }
    }

    /** The metadata key of an expert file's index (its seed stream): experts are numbered by it, not by list position. */
    public static final String INDEX_KEY = "expert_index";

    /**
     * Trains the experts {@code indices} as one batch ({@link #trainBatched}), writing expert
     * indices[j] to files[j], each atomically, with the stamp and its index in the metadata.
     */
    public static void trainBatchedTo(List<Path> files, ConvNet net, Tensor images, Tensor targets, Settings s, int[] indices, Map<String, String> stamp,
            Runnable onStep) throws IOException {
        if (files.size() != indices.length) throw new IllegalArgumentException("experts: " + files.size() + " files for " + indices.length + " experts");
        List<NdArray> trajectories = trainBatched(net, images, targets, s, indices, onStep);
        for (int j = 0; j < indices.length; j++) {
            Map<String, String> m = new java.util.LinkedHashMap<>(stamp);
            m.put(INDEX_KEY, Integer.toString(indices[j]));
            Artefacts.writeTrajectory(files.get(j), trajectories.get(j), net.layout(), m);
        }
    }
}
