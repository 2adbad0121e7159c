package org.mkdt.ops;

import org.mkdt.autograd.GradMode;
import org.mkdt.autograd.Graph;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * The end of a student block fused: per-plane affine (instance norm's scale and shift), ReLU
 * and 2x2 average pooling, y = avgPool2(relu(x * scale + shift)) in one pass. Unfused, the
 * three ops write two full-size tensors (x * scale, and z = x * scale + shift, which ReLU keeps
 * for its backward) and a third for ReLU's output; fused, only the quarter-size y is written
 * and the mask [z > 0] is recomputed from x where needed.
 *
 * <p>Differentiation: with r = [z > 0] * avgPool2Grad(g) (the op {@link #grad}), dy/dx is
 * r * scale, dy/dscale the per-plane sum of r * x, and dy/dshift that of r; these are ordinary
 * ops of (r, x, scale), so their own derivatives (the mixed second-order terms) come from the
 * ops' rules. r is linear in g with a constant mask: its adjoint {@link #masked} is
 * avgPool2(u * [z > 0]), each the other's backward, and their derivative in (x, scale, shift)
 * is zero wherever it exists (ReLU's second derivative), as for {@link Elementwise#reluGrad}.
 * The forward has the bits of the unfused ops on the CPU, and so does the first-order backward
 * of the plain form (ReluPool2Test); both forms are grad-checked to second order (OpCatalog).
 */
public final class ReluPool2 {
    private ReluPool2() {}

    /** avgPool2(relu(z)) for z (N, C, H, W), H and W even. */
    public static Tensor reluPool2(Tensor z) {
        return reluPool2(z, null, null);
    }

    /**
     * avgPool2(relu(x * scale + shift)) for x (N, C, H, W) and one scale and shift per (n, c)
     * plane, (N, C) each (both null: no affine).
     */
    public static Tensor reluPool2(Tensor x, Tensor scale, Tensor shift) {
        Checks.rank("reluPool2", "x", x, 4);
        Checks.argument(x.shape().dim(2) % 2 == 0 && x.shape().dim(3) % 2 == 0, "reluPool2: height and width must be even, x has shape " + x.shape());
        Checks.argument((scale == null) == (shift == null), "reluPool2: scale and shift come together");
        Shape planes = Shape.of(x.shape().dim(0), x.shape().dim(1));
        if (scale != null) {
            Checks.argument(scale.shape().equals(planes) && shift.shape().equals(planes),
                    "reluPool2: scale " + scale.shape() + " and shift " + shift.shape() + " must be " + planes + " (one per plane of x " + x.shape() + ")");
        }
        Tensor y = Tensor.empty(x.backend(), x.dtype(), pooled(x.shape()));
        x.backend().reluPool2(null, x, scale, shift, y);
        Mask mask = new Mask(x.detach(), scale == null ? null : scale.detach(), shift == null ? null : shift.detach());
        if (scale == null) return Graph.record("reluPool2", y, (g, needs) -> new Tensor[] {grad(g, mask)}, x);
        Shape perPlane = Shape.of(planes.dim(0), planes.dim(1), 1, 1);
        return Graph.record("reluPool2", y, (g, needs) -> {
            if (!GradMode.isEnabled()) return firstOrder(g, mask, planes, needs);
            Tensor r = grad(g, mask);
            return new Tensor[] {
                    needs[0] ? Elementwise.mul(r, Shaping.reshape(scale, perPlane)) : null,
                    needs[1] ? Reduce.sum(Elementwise.mul(r, x), false, 2, 3) : null,
                    needs[2] ? Reduce.sum(r, false, 2, 3) : null};
        }, x, scale, shift);
    }

    /**
     * The backward when nothing will differentiate it (no createGraph): the three gradients from
     * one fused backend call instead of r and the ops on it.
     */
    private static Tensor[] firstOrder(Tensor g, Mask m, Shape planes, boolean[] needs) {
        Tensor dx = Tensor.empty(g.backend(), g.dtype(), m.x().shape());
        Tensor dscale = Tensor.empty(g.backend(), g.dtype(), planes), dshift = Tensor.empty(g.backend(), g.dtype(), planes);
        g.backend().reluPool2Backward(g, m.x(), m.scale(), m.shift(), dx, dscale, dshift);
        Tensor[] out = {dx, dscale, dshift};
        for (int i = 0; i < 3; i++) {
            if (!needs[i]) {
                out[i].storage().release();
                out[i] = null;
            }
        }
        return out;
    }

    /** The constant mask [x * scale + shift > 0] of a forward, as the tensors it is computed from. */
    private record Mask(Tensor x, Tensor scale, Tensor shift) {}

    /** avgPool2(u * [z > 0]), linear in u; the mask is a constant. */
    private static Tensor masked(Tensor u, Mask m) {
        Tensor y = Tensor.empty(u.backend(), u.dtype(), pooled(u.shape()));
        u.backend().reluPool2(u, m.x(), m.scale(), m.shift(), y);
        return Graph.record("reluPool2Masked", y, (g, needs) -> new Tensor[] {grad(g, m)}, u);
    }

    /** [z > 0] * avgPool2Grad(dy), linear in dy; the mask is a constant. */
    private static Tensor grad(Tensor dy, Mask m) {
        Tensor dx = Tensor.empty(dy.backend(), dy.dtype(), m.x().shape());
        dy.backend().reluPool2Grad(dy, m.x(), m.scale(), m.shift(), dx);
        return Graph.record("reluPool2Grad", dx, (g, needs) -> new Tensor[] {masked(g, m)}, dy);
    }

    private static Shape pooled(Shape s) {
        return Shape.of(s.dim(0), s.dim(1), s.dim(2) / 2, s.dim(3) / 2);
    }
}
