package org.mkdt.ops;

import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** Losses, composed from differentiable ops. */
public final class Loss {
    private Loss() {}

    /** Mean squared error over every element: mean((a - b)^2). */
    public static Tensor mse(Tensor a, Tensor b) {
        Checks.sameShape("mse", a, b);
        return Reduce.meanAll(Elementwise.square(Elementwise.sub(a, b)));
    }

    /**
     * Batched students: the MSE of each student, (S), for a and b (S, ...). Student s's value is
     * mse(a[s], b[s]) to the bit (the same sum in the same order, then the same scaling).
     */
    public static Tensor mseEach(Tensor a, Tensor b) {
        Checks.sameShape("mseEach", a, b);
        int rank = a.shape().rank();
        Checks.argument(rank >= 2, "mseEach: needs a leading student axis, got " + a.shape());
        int[] axes = new int[rank - 1];
        for (int i = 0; i < axes.length; i++) axes[i] = i + 1;
        int students = a.shape().dim(0);
        Tensor sums = Reduce.sum(Elementwise.square(Elementwise.sub(a, b)), false, axes);
        return Elementwise.scale(sums, 1.0 / (a.numel() / Math.max(1, students)));
    }

    /**
     * The Barlow Twins loss of two views' embeddings z1, z2 (B, D): each standardised per
     * dimension over the batch (biased variance, eps 1e-5), C = z1n^T z2n / B (D, D), and
     * sum_i (1 - C_ii)^2 + lambda * sum_{i != j} C_ij^2.
     */
    public static Tensor barlowTwins(Tensor z1, Tensor z2, double lambda) {
        Checks.sameShape("barlowTwins", z1, z2);
        Checks.rank("barlowTwins", "z1", z1, 2);
        int b = z1.shape().dim(0), d = z1.shape().dim(1);
        Checks.argument(b > 1, "barlowTwins: needs a batch of at least 2 to standardise, got " + z1.shape());
        Tensor c = Elementwise.scale(Gemm.matmul(standardise(z1), true, standardise(z2), false), 1.0 / b);
        double[] eye = new double[d * d], off = new double[d * d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) (i == j ? eye : off)[i * d + j] = 1.0;
        Tensor identity = Tensor.of(z1.backend(), z1.dtype(), Shape.of(d, d), eye);
        Tensor offDiagonal = Tensor.of(z1.backend(), z1.dtype(), Shape.of(d, d), off);
        Tensor onTerm = Reduce.sumAll(Elementwise.square(Elementwise.mul(Elementwise.sub(c, identity), identity)));
        Tensor offTerm = Reduce.sumAll(Elementwise.square(Elementwise.mul(c, offDiagonal)));
        return Elementwise.add(onTerm, Elementwise.scale(offTerm, lambda));
    }

    private static Tensor standardise(Tensor z) {
        Tensor centered = Elementwise.sub(z, Reduce.mean(z, true, 0));
        Tensor var = Reduce.mean(Elementwise.square(centered), true, 0);
        return Elementwise.mul(centered, Elementwise.rsqrt(Elementwise.affine(var, 1.0, 1e-5)));
    }

    /**
     * Mean cross-entropy of logits (B, K) against integer labels: log-softmax with the row max
     * subtracted for stability (a constant shift that leaves the value and gradient unchanged).
     */
    public static Tensor crossEntropy(Tensor logits, int[] labels) {
        Checks.rank("crossEntropy", "logits", logits, 2);
        int b = logits.shape().dim(0), k = logits.shape().dim(1);
        Checks.argument(labels.length == b, "crossEntropy: " + labels.length + " labels for logits " + logits.shape());
        double[] onehot = new double[b * k];
        for (int i = 0; i < b; i++) {
            Checks.argument(labels[i] >= 0 && labels[i] < k,
                    "crossEntropy: label " + labels[i] + " at row " + i + " is out of range for " + k + " classes");
            onehot[i * k + labels[i]] = 1.0;
        }
        Tensor z = Elementwise.sub(logits, Reduce.maxConstant(logits, 1));
        Tensor lse = Elementwise.log(Reduce.sum(Elementwise.exp(z), true, 1));
        Tensor logp = Elementwise.sub(z, lse);
        Tensor target = Tensor.of(logits.backend(), logits.dtype(), Shape.of(b, k), onehot);
        return Elementwise.scale(Reduce.sumAll(Elementwise.mul(target, logp)), -1.0 / b);
    }

}
