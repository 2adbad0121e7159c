package org.mkdt.stages;

import java.util.Arrays;
import java.util.List;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.PermutationSampler;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.autograd.GradMode;
import org.mkdt.nn.ConvNet;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Reduce;
import org.mkdt.ops.Rows;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Tensor;

/**
 * MKDT stage 3: which real images start the synthetic set. "High-loss": every training image's
 * KD loss (MSE to its teacher vector) under the experts after their first epoch, averaged over
 * the experts, largest first; or a seeded random subset.
 */
public final class InitialSubset {
    private InitialSubset() {}

    /** k distinct indices of [0, n), seeded. */
    public static int[] random(int n, int k, long seed) {
        check(n, k);
        int[] perm = PermutationSampler.natural(n);
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        PermutationSampler.shuffle(rng, perm);
        return Arrays.copyOf(perm, k);
    }

    /**
     * k distinct indices of [0, labels.length), class-balanced as the reference's random subset
     * is: floor(k / C) from every class, one more from each of the first k mod C classes in a
     * seeded order, each class's images in a seeded shuffle; a class with too few images gives
     * all it has and the rest come from the other classes. One permutation drawn from the seed
     * decides all of it, so the result is deterministic.
     */
    public static int[] balanced(int[] labels, int classes, int k, long seed) {
        int n = labels.length;
        check(n, k);
        if (classes < 1) throw new IllegalArgumentException("initial subset: need at least one class, got " + classes);
        int[] perm = random(n, n, seed);
        int[] quota = new int[classes];
        java.util.Arrays.fill(quota, k / classes);
        boolean[] seen = new boolean[classes];
        int extra = k % classes;
        for (int i : perm) {
            int y = labels[i];
            if (y < 0 || y >= classes) throw new IllegalArgumentException("initial subset: label " + y + " of image " + i + " outside 0.." + (classes - 1));
            if (!seen[y]) {
                seen[y] = true;
                if (extra > 0) {
                    quota[y]++;
                    extra--;
                }
            }
        }
        boolean[] chosen = new boolean[n];
        int[] out = new int[k];
        int m = 0;
        for (int i : perm) {
            if (quota[labels[i]] > 0) {
                quota[labels[i]]--;
                chosen[i] = true;
                out[m++] = i;
            }
        }
        for (int i : perm) {
            if (m == k) break;
            if (!chosen[i]) out[m++] = i;
        }
        return out;
    }

    /** Per-image MSE (mean over D) of the student with parameters theta, in batches. */
    public static double[] perImageLoss(ConvNet net, Tensor theta, Tensor images, Tensor targets, int batch) {
        int n = images.shape().dim(0);
        double[] loss = new double[n];
        try (GradMode.Guard off = GradMode.noGrad()) {
            for (int start = 0; start < n; start += batch) {
                int[] idx = range(start, Math.min(n, start + batch));
                try (Scope s = Scope.open()) {
                    Tensor diff = Elementwise.sub(net.forward(theta, Rows.gather(images, idx)), Rows.gather(targets, idx));
                    double[] l = Reduce.mean(Elementwise.square(diff), false, 1).toDoubleArray();
                    System.arraycopy(l, 0, loss, start, l.length);
                }
            }
        }
        return loss;
    }

    /**
     * The k images with the highest KD loss averaged over the given parameter vectors (the
     * experts after epoch 1); ties go to the lower index, so the choice is deterministic.
     */
    public static int[] highLoss(ConvNet net, List<Tensor> thetas, Tensor images, Tensor targets, int k, int batch) {
        int n = images.shape().dim(0);
        check(n, k);
        if (thetas.isEmpty()) throw new IllegalArgumentException("high-loss initialisation needs at least one expert");
        double[] mean = new double[n];
        for (Tensor theta : thetas) {
            double[] l = perImageLoss(net, theta, images, targets, batch);
            for (int i = 0; i < n; i++) mean[i] += l[i] / thetas.size();
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> mean[a] != mean[b] ? Double.compare(mean[b], mean[a]) : Integer.compare(a, b));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) out[i] = order[i];
        return out;
    }

    /** The indices [start, end). */
    static int[] range(int start, int end) {
        return java.util.stream.IntStream.range(start, end).toArray();
    }

    private static void check(int n, int k) {
        if (k < 1 || k > n) throw new IllegalArgumentException("initial subset: size " + k + " must be in 1.." + n);
    }
}
