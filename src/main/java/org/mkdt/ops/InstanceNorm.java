package org.mkdt.ops;

import org.mkdt.autograd.Graph;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * Instance norm (GroupNorm with groups = channels): each (n, c) plane is normalised over its
 * H x W values with the biased variance, then scaled and shifted per channel.
 *
 * <p>The forward pass is one fused primitive, and so is the backward ({@link #grad}), which is
 * an op of its own with a hand-derived, fused derivative: second derivatives (the Hessian-vector
 * products of trajectory matching) cost two passes over each plane instead of a dozen
 * full-size temporaries. Checked against finite differences to second order (OpCatalog) and
 * against the composite formula {@link #differentiableGrad} (InstanceNormTest).
 */
public final class InstanceNorm {
    public static final double EPS = 1e-5;

    private InstanceNorm() {}

    /** (x - mean) / sqrt(var + eps) per plane of x (N, C, H, W). */
    public static Tensor normalize(Tensor x, double eps) {
        Checks.rank("instanceNorm", "x", x, 4);
        Shape planes = Shape.of(x.shape().dim(0), x.shape().dim(1), 1, 1);
        Tensor xhat = Tensor.empty(x.backend(), x.dtype(), x.shape());
        Tensor rstd = Tensor.empty(x.backend(), x.dtype(), planes);
        x.backend().instanceNorm(x, eps, xhat, rstd);
        Tensor xhatConst = xhat.detach();
        return Graph.record("instanceNorm", xhat, (g, needs) -> new Tensor[] {grad(g, x, xhatConst, rstd)}, x);
    }

    /**
     * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) as one op of (g, x): fused forward, and
     * a hand-derived backward (linear in g: the same op; in x: the fused second-order term), so
     * the gradient of instance norm is itself differentiable without the dozen full-size
     * temporaries the composite formula ({@link #differentiableGrad}) records.
     *
     * @param xhat, rstd saved by the forward pass: functions of x whose x-dependence the
     *                   second-order kernel accounts for analytically
     */
    static Tensor grad(Tensor g, Tensor x, Tensor xhat, Tensor rstd) {
        Tensor dx = Tensor.empty(g.backend(), g.dtype(), g.shape());
        g.backend().instanceNormGrad(g, xhat, rstd, dx);
        return Graph.record("instanceNormGrad", dx, (u, needs) -> new Tensor[] {
                needs[0] ? grad(u, x, xhat, rstd) : null,
                needs[1] ? secondOrder(u, g, x, xhat, rstd) : null}, g, x);
    }

    /** d/dx of sum(u * grad(g, x)); differentiating it again (third order) is not supported. */
    private static Tensor secondOrder(Tensor u, Tensor g, Tensor x, Tensor xhat, Tensor rstd) {
        Tensor out = Tensor.empty(u.backend(), u.dtype(), u.shape());
        u.backend().instanceNormGradGrad(u, g, xhat, rstd, out);
        return Graph.record("instanceNormGradGrad", out, (w, needs) -> {
            throw new UnsupportedOperationException("third derivatives of instance norm are not implemented");
        }, u, g, x);
    }

    /** normalize(x) * gamma (C) + beta (C). (The student fuses the scale and shift into ReluPool2 instead.) */
    public static Tensor instanceNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
        int c = x.shape().dim(1);
        Shape perChannel = Shape.of(1, c, 1, 1);
        Checks.argument(gamma.numel() == c && beta.numel() == c,
                "instanceNorm: gamma " + gamma.shape() + " and beta " + beta.shape() + " must have " + c + " elements for x " + x.shape());
        Tensor y = Elementwise.mul(normalize(x, eps), Shaping.reshape(gamma, perChannel));
        return Elementwise.add(y, Shaping.reshape(beta, perChannel));
    }

    /**
     * The same gradient written with elementwise ops and reductions on x, so its derivatives come
     * from the ops' own rules: the independent reference the fused second-order kernel is
     * tested against (InstanceNormTest).
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
