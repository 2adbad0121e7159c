package org.mkdt.ops;

import org.mkdt.autograd.GradMode;
import org.mkdt.autograd.Graph;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * Sums, means and their adjoint, broadcasting ("expand"). sumTo and expand are each other's
 * backward, which is all the broadcasting rules of the elementwise ops need.
 */
public final class Reduce {
    private Reduce() {}

    /** Sums x down to {@code target}, a shape that broadcasts to x's (the gradient of a broadcast). */
    public static Tensor sumTo(Tensor x, Shape target) {
        if (x.shape().equals(target)) return x;
        Checks.argument(target.broadcastsTo(x.shape()),
                "sumTo: shape " + target + " does not broadcast to " + x.shape());
        Shape keep = keepShape(target, x.shape());
        Tensor out = Tensor.empty(x.backend(), x.dtype(), keep);
        x.backend().sum(x, out);
        Tensor res = keep.equals(target) ? out : out.view(target, 0);
        return Graph.record("sumTo", res, (g, needs) -> new Tensor[] {expand(g, x.shape())}, x);
    }

    /** Broadcasts x to {@code target} (a copy). */
    public static Tensor expand(Tensor x, Shape target) {
        if (x.shape().equals(target)) return x;
        Checks.argument(x.shape().broadcastsTo(target), "expand: shape " + x.shape() + " does not broadcast to " + target);
        Tensor out = Tensor.empty(x.backend(), x.dtype(), target);
        x.backend().unary(org.mkdt.backend.UnaryOp.IDENTITY, x, out);
        return Graph.record("expand", out, (g, needs) -> new Tensor[] {sumTo(g, x.shape())}, x);
    }

    /** Sum over axes; keepdims keeps them as extent 1. */
    public static Tensor sum(Tensor x, boolean keepdims, int... axes) {
        Shape kept = x.shape().reduced(axes);
        Tensor s = sumTo(x, kept);
        return keepdims ? s : Shaping.reshape(s, dropAxes(x.shape(), axes));
    }

    public static Tensor mean(Tensor x, boolean keepdims, int... axes) {
        long count = 1;
        for (int a : axes) count *= x.shape().dim(x.shape().normalizeAxis(a));
        return Elementwise.scale(sum(x, keepdims, axes), 1.0 / count);
    }

    /** Sum of every element, shape (). */
    public static Tensor sumAll(Tensor x) {
        int[] ones = new int[x.shape().rank()];
        java.util.Arrays.fill(ones, 1);
        return Shaping.reshape(sumTo(x, Shape.of(ones)), Shape.of());
    }

    public static Tensor meanAll(Tensor x) {
        return Elementwise.scale(sumAll(x), 1.0 / x.numel());
    }

    /** Max over axes (keepdims), as a constant: used only to shift log-sum-exp, which it leaves unchanged. */
    public static Tensor maxConstant(Tensor x, int... axes) {
        try (GradMode.Guard g = GradMode.noGrad()) {
            Tensor out = Tensor.zeros(x.backend(), x.dtype(), x.shape().reduced(axes));
            x.backend().max(x, out);
            return out;
        }
    }

    private static Shape keepShape(Shape target, Shape full) {
        int[] d = new int[full.rank()];
        int off = full.rank() - target.rank();
        for (int i = 0; i < d.length; i++) d[i] = i < off ? 1 : target.dim(i - off);
        return Shape.of(d);
    }

    private static Shape dropAxes(Shape s, int[] axes) {
        boolean[] drop = new boolean[s.rank()];
        for (int a : axes) drop[s.normalizeAxis(a)] = true;
        int n = 0;
        for (boolean b : drop) if (!b) n++;
        int[] d = new int[n];
        int j = 0;
        for (int i = 0; i < s.rank(); i++) if (!drop[i]) d[j++] = s.dim(i);
        return Shape.of(d);
    }
}
