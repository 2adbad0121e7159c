package org.mkdt.ops;

import org.mkdt.autograd.GradMode;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * Batch norm over every axis but the channel axis 1, for (N, C) and (N, C, H, W) inputs:
 * training mode normalises with the batch's mean and biased variance and updates running
 * statistics (momentum 0.1, unbiased variance, as PyTorch); evaluation mode uses the running
 * statistics as constants. Composed of differentiable ops, so it is twice differentiable.
 */
public final class BatchNorm {
    public static final double EPS = 1e-5;
    public static final double MOMENTUM = 0.1;

    /** Running mean and variance per channel (start: 0 and 1). */
    public static final class RunningStats {
        private final double[] mean;
        private final double[] var;

        public RunningStats(int channels) {
            mean = new double[channels];
            var = new double[channels];
            java.util.Arrays.fill(var, 1.0);
        }

        public double[] mean() {
            return mean.clone();
        }

        public double[] var() {
            return var.clone();
        }

        /** Sets both from saved values (a reloaded encoder). */
        public void set(double[] newMean, double[] newVar) {
            Checks.argument(newMean.length == mean.length && newVar.length == var.length,
                    "batchNorm: saved statistics have " + newMean.length + " and " + newVar.length + " channels, expected " + mean.length);
            System.arraycopy(newMean, 0, mean, 0, mean.length);
            System.arraycopy(newVar, 0, var, 0, var.length);
        }
    }

    private BatchNorm() {}

    /** Training mode: batch statistics; {@code stats} (may be null) is updated from them. */
    public static Tensor train(Tensor x, Tensor gamma, Tensor beta, RunningStats stats) {
        int[] axes = reducedAxes(x);
        Tensor centered = Elementwise.sub(x, Reduce.mean(x, true, axes));
        Tensor var = Reduce.mean(Elementwise.square(centered), true, axes);
        Tensor xhat = Elementwise.mul(centered, Elementwise.rsqrt(Elementwise.affine(var, 1.0, EPS)));
        if (stats != null) update(stats, x, var, x.numel() / x.shape().dim(1));
        return affine(xhat, gamma, beta);
    }

    /** Evaluation mode: (x - running mean) / sqrt(running var + eps) * gamma + beta. */
    public static Tensor eval(Tensor x, Tensor gamma, Tensor beta, RunningStats stats) {
        int c = x.shape().dim(1);
        Checks.argument(stats.mean.length == c, "batchNorm: running statistics have " + stats.mean.length + " channels, x " + x.shape() + " has " + c);
        double[] scale = new double[c], shift = new double[c];
        for (int i = 0; i < c; i++) {
            scale[i] = 1.0 / Math.sqrt(stats.var[i] + EPS);
            shift[i] = -stats.mean[i] * scale[i];
        }
        Shape per = perChannel(x);
        Tensor s = Tensor.of(x.backend(), x.dtype(), per, scale), b = Tensor.of(x.backend(), x.dtype(), per, shift);
        return affine(Elementwise.add(Elementwise.mul(x, s), b), gamma, beta);
    }

    private static Tensor affine(Tensor xhat, Tensor gamma, Tensor beta) {
        int c = xhat.shape().dim(1);
        Checks.argument(gamma.numel() == c && beta.numel() == c,
                "batchNorm: gamma " + gamma.shape() + " and beta " + beta.shape() + " must have " + c + " elements for x " + xhat.shape());
        Shape per = perChannel(xhat);
        return Elementwise.add(Elementwise.mul(xhat, Shaping.reshape(gamma, per)), Shaping.reshape(beta, per));
    }

    private static void update(RunningStats stats, Tensor x, Tensor biasedVar, int count) {
        try (GradMode.Guard off = GradMode.noGrad()) {
            double[] m = Reduce.mean(x, true, reducedAxes(x)).toDoubleArray(), v = biasedVar.toDoubleArray();
            Checks.argument(m.length == stats.mean.length, "batchNorm: running statistics have " + stats.mean.length + " channels, x " + x.shape() + " has " + m.length);
            double unbias = count > 1 ? (double) count / (count - 1) : 1.0;
            for (int i = 0; i < m.length; i++) {
                stats.mean[i] = (1 - MOMENTUM) * stats.mean[i] + MOMENTUM * m[i];
                stats.var[i] = (1 - MOMENTUM) * stats.var[i] + MOMENTUM * v[i] * unbias;
            }
        }
    }

    private static int[] reducedAxes(Tensor x) {
        int r = x.shape().rank();
        Checks.argument(r == 2 || r == 4, "batchNorm: x must be (N, C) or (N, C, H, W), got " + x.shape());
        return r == 2 ? new int[] {0} : new int[] {0, 2, 3};
    }

    private static Shape perChannel(Tensor x) {
        return x.shape().rank() == 2 ? Shape.of(1, x.shape().dim(1)) : Shape.of(1, x.shape().dim(1), 1, 1);
    }
}
