package org.mkdt.ops;

import org.mkdt.autograd.GradMode;
import org.mkdt.autograd.Graph;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * Instance norm (GroupNorm with groups = channels): each (n, c) plane is normalised over its
 * H x W values with the biased variance, then scaled and shifted per channel.
 *
 * <p>The forward pass is one fused primitive. Its backward has two forms that compute the same
 * function: the fused primitive when the backward is not being recorded (first-order training),
 * and, under createGraph, the same formula written with differentiable ops on the input x, so
 * second derivatives come out exactly. Tests check both against finite differences.
 */
public final class InstanceNorm {
    public static final double EPS = 1e-5;

    private InstanceNorm() {}

    /** (x - mean) / sqrt(var + eps) per plane of x (N, C, H, W). */
    public static Tensor normalize(Tensor x, double eps) {
        Checks.rank("instanceNorm", "x", x, 4);
        Shape planes = Shape.of(x.shape().dim(0), x.shape().dim(1), 1, 1);
        Tensor xhat = Tensor.zeros(x.backend(), x.dtype(), x.shape());
        Tensor rstd = Tensor.zeros(x.backend(), x.dtype(), planes);
        x.backend().instanceNorm(x, eps, xhat, rstd);
        return Graph.record("instanceNorm", xhat, (g, needs) -> {
            if (!GradMode.isEnabled()) {
                Tensor dx = Tensor.zeros(g.backend(), g.dtype(), g.shape());
                g.backend().instanceNormGrad(g, xhat, rstd, dx);
                return new Tensor[] {dx};
            }
            return new Tensor[] {differentiableGrad(x, g, eps)};
        }, x);
    }

    /** normalize(x) * gamma (C) + beta (C). */
    public static Tensor instanceNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
        int c = x.shape().dim(1);
        Shape perChannel = Shape.of(1, c, 1, 1);
        Checks.argument(gamma.numel() == c && beta.numel() == c,
                "instanceNorm: gamma " + gamma.shape() + " and beta " + beta.shape() + " must have " + c + " elements for x " + x.shape());
        Tensor y = Elementwise.mul(normalize(x, eps), Shaping.reshape(gamma, perChannel));
        return Elementwise.add(y, Shaping.reshape(beta, perChannel));
    }

    /**
     * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), with rstd and xhat recomputed from x by
     * ops, so this gradient is a differentiable function of both x and g.
     */
    static Tensor differentiableGrad(Tensor x, Tensor g, double eps) {
        Tensor xc = Elementwise.sub(x, Reduce.mean(x, true, 2, 3));
        Tensor rstd = Elementwise.rsqrt(Elementwise.affine(Reduce.mean(Elementwise.square(xc), true, 2, 3), 1.0, eps));
        Tensor xhat = Elementwise.mul(xc, rstd);
        Tensor centered = Elementwise.sub(g, Reduce.mean(g, true, 2, 3));
        Tensor proj = Elementwise.mul(xhat, Reduce.mean(Elementwise.mul(g, xhat), true, 2, 3));
        return Elementwise.mul(rstd, Elementwise.sub(centered, proj));
    }
}
