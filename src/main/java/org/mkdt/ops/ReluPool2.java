package org.mkdt.ops;

import org.mkdt.autograd.Graph;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * ReLU fused with 2x2 average pooling: y = avgPool2(relu(z)) in one pass, without the
 * full-size ReLU output that the unfused pair writes, keeps for the backward and reads back.
 *
 * <p>Two linear ops in u with a constant mask [z > 0] close under differentiation, like
 * AvgPool2's pair: masked(u; z) = avgPool2(u * [z > 0]) and maskedGrad(dy; z) = [z > 0] *
 * avgPool2Grad(dy) are each other's backward in their first argument, and their derivative in z
 * is zero wherever it exists (ReLU's second derivative), as for {@link Elementwise#reluGrad}.
 * The forward is masked(z; z), whose derivative in z is maskedGrad(g; z). Checked against the
 * unfused avgPool2(relu(z)) to first and second order (ReluPool2Test).
 */
public final class ReluPool2 {
    private ReluPool2() {}

    /** avgPool2(relu(z)) for z (N, C, H, W), H and W even. */
    public static Tensor reluPool2(Tensor z) {
        Tensor y = forward(z, z);
        Tensor zc = z.detach();
        return Graph.record("reluPool2", y, (g, needs) -> new Tensor[] {grad(g, zc)}, z);
    }

    /** avgPool2(u * [z > 0]), linear in u; z is a constant mask. */
    static Tensor masked(Tensor u, Tensor z) {
        Tensor y = forward(u, z);
        return Graph.record("reluPool2Masked", y, (g, needs) -> new Tensor[] {grad(g, z)}, u);
    }

    /** [z > 0] * avgPool2Grad(dy), linear in dy; z is a constant mask. */
    static Tensor grad(Tensor dy, Tensor z) {
        Checks.rank("reluPool2Grad", "dy", dy, 4);
        Checks.argument(dy.shape().equals(pooled(z.shape())), "reluPool2Grad: dy " + dy.shape() + " does not pool z " + z.shape());
        Tensor dx = Tensor.zeros(dy.backend(), dy.dtype(), z.shape());
        dy.backend().reluPool2Grad(dy, z, dx);
        return Graph.record("reluPool2Grad", dx, (g, needs) -> new Tensor[] {masked(g, z)}, dy);
    }

    private static Tensor forward(Tensor u, Tensor z) {
        Checks.rank("reluPool2", "z", z, 4);
        Checks.sameShape("reluPool2", u, z);
        Checks.argument(z.shape().dim(2) % 2 == 0 && z.shape().dim(3) % 2 == 0, "reluPool2: height and width must be even, z has shape " + z.shape());
        Tensor y = Tensor.zeros(z.backend(), z.dtype(), pooled(z.shape()));
        z.backend().reluPool2(u, z, y);
        return y;
    }

    private static Shape pooled(Shape s) {
        return Shape.of(s.dim(0), s.dim(1), s.dim(2) / 2, s.dim(3) / 2);
    }
}
