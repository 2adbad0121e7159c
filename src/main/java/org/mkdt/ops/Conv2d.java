package org.mkdt.ops;

import org.mkdt.autograd.Graph;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * 2-D convolution (cross-correlation, as PyTorch's conv2d) and its two gradients, as three ops
 * that are each other's backward: conv2d(x, w) is bilinear, so d/dx is dataGrad(dy, w) and d/dw
 * is weightGrad(x, dy); dataGrad and weightGrad are bilinear too, and their gradients are again
 * built from the same three. This closure is what makes the networks twice differentiable.
 *
 * <p>Batched students: every tensor may carry a leading extent S (x (S, N, Ci, H, W), w (S, Co,
 * Ci, Kh, Kw), bias (S, Co)), S independent convolutions in one backend call. The closure holds
 * unchanged, since each gradient op keeps the leading S of its operands.
 */
public final class Conv2d {
    private Conv2d() {}

    /** The student's convolution: stride 1, padding kernel/2 (the output keeps the input's size for odd kernels). */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias) {
        int lead = lead("conv2d", "w", w);
        return conv2d(x, w, bias, new ConvGeometry(1, w.shape().dim(lead + 2) / 2));
    }

    /** y (N, Co, Ho, Wo) = conv(x (N, Ci, H, W), w (Co, Ci, Kh, Kw)) + bias (Co); bias may be null. */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, ConvGeometry geo) {
        Checks.sameKind("conv2d", x, w);
        int lead = lead("conv2d", "w", w);
        Checks.rank("conv2d", "x", x, 4 + lead);
        sameStudents("conv2d", lead, x, w);
        Checks.argument(dim(x, lead, 1) == dim(w, lead, 1),
                "conv2d: x " + x.shape() + " has " + dim(x, lead, 1) + " channels but w " + w.shape() + " expects " + dim(w, lead, 1));
        if (bias != null) {
            Checks.sameKind("conv2d", x, bias);
            Shape expected = lead == 1 ? Shape.of(w.shape().dim(0), dim(w, lead, 0)) : Shape.of(dim(w, lead, 0));
            Checks.argument(bias.shape().equals(expected),
                    "conv2d: bias shape " + bias.shape() + " does not match weight " + w.shape() + " (expected " + expected + ")");
        }
        int h = dim(x, lead, 2), wd = dim(x, lead, 3), kh = dim(w, lead, 2), kw = dim(w, lead, 3);
        int oh = geo.out(h, kh), ow = geo.out(wd, kw);
        Checks.argument(oh > 0 && ow > 0, "conv2d: kernel " + w.shape() + " with " + geo + " does not fit input " + x.shape());
        Tensor y = Tensor.empty(x.backend(), x.dtype(), shape(x, lead, dim(x, lead, 0), dim(w, lead, 0), oh, ow));
        x.backend().conv2d(x, w, bias, geo, y);
        return Graph.record("conv2d", y, (g, needs) -> new Tensor[] {
                needs[0] ? dataGrad(g, w, geo, h, wd) : null,
                needs[1] ? weightGrad(x, g, geo, kh, kw) : null,
                needs[2] ? (lead == 1 ? Reduce.sum(g, false, 1, 3, 4) : Reduce.sum(g, false, 0, 2, 3)) : null}, x, w, bias);
    }

    /** The student's data gradient (stride 1, padding kernel/2): dx has dy's spatial size. */
    public static Tensor dataGrad(Tensor dy, Tensor w) {
        int lead = lead("conv2dDataGrad", "w", w);
        Checks.rank("conv2dDataGrad", "dy", dy, 4 + lead);
        return dataGrad(dy, w, new ConvGeometry(1, dim(w, lead, 2) / 2), dim(dy, lead, 2), dim(dy, lead, 3));
    }

    /** dx (N, Ci, H, W) from dy (N, Co, Ho, Wo) and w (Co, Ci, Kh, Kw): the transposed convolution. */
    public static Tensor dataGrad(Tensor dy, Tensor w, ConvGeometry geo, int h, int wd) {
        Checks.sameKind("conv2dDataGrad", dy, w);
        int lead = lead("conv2dDataGrad", "w", w);
        Checks.rank("conv2dDataGrad", "dy", dy, 4 + lead);
        sameStudents("conv2dDataGrad", lead, dy, w);
        Checks.argument(dim(dy, lead, 1) == dim(w, lead, 0),
                "conv2dDataGrad: dy " + dy.shape() + " has " + dim(dy, lead, 1) + " channels but w " + w.shape() + " has " + dim(w, lead, 0) + " outputs");
        int kh = dim(w, lead, 2), kw = dim(w, lead, 3);
        Checks.argument(geo.out(h, kh) == dim(dy, lead, 2) && geo.out(wd, kw) == dim(dy, lead, 3),
                "conv2dDataGrad: dy " + dy.shape() + " is not the output of a " + h + "x" + wd + " input under kernel " + w.shape() + " and " + geo);
        Tensor dx = Tensor.zeros(dy.backend(), dy.dtype(), shape(dy, lead, dim(dy, lead, 0), dim(w, lead, 1), h, wd));
        dy.backend().conv2dDataGrad(dy, w, geo, dx);
        return Graph.record("conv2dDataGrad", dx, (g, needs) -> new Tensor[] {
                needs[0] ? conv2d(g, w, null, geo) : null,
                needs[1] ? weightGrad(g, dy, geo, kh, kw) : null}, dy, w);
    }

    /** The student's weight gradient: a 3x3 kernel, stride 1, padding 1. */
    public static Tensor weightGrad(Tensor x, Tensor dy) {
        return weightGrad(x, dy, ConvGeometry.SAME_3X3, 3, 3);
    }

    /** dw (Co, Ci, Kh, Kw) from x (N, Ci, H, W) and dy (N, Co, Ho, Wo), summed over the batch. */
    public static Tensor weightGrad(Tensor x, Tensor dy, ConvGeometry geo, int kh, int kw) {
        Checks.sameKind("conv2dWeightGrad", x, dy);
        int lead = x.shape().rank() == 5 ? 1 : 0;
        Checks.rank("conv2dWeightGrad", "x", x, 4 + lead);
        Checks.rank("conv2dWeightGrad", "dy", dy, 4 + lead);
        sameStudents("conv2dWeightGrad", lead, x, dy);
        int h = dim(x, lead, 2), wd = dim(x, lead, 3);
        Checks.argument(dim(x, lead, 0) == dim(dy, lead, 0) && geo.out(h, kh) == dim(dy, lead, 2) && geo.out(wd, kw) == dim(dy, lead, 3),
                "conv2dWeightGrad: x " + x.shape() + " and dy " + dy.shape() + " do not match for a " + kh + "x" + kw + " kernel and " + geo);
        Tensor dw = Tensor.zeros(x.backend(), x.dtype(), shape(x, lead, dim(dy, lead, 1), dim(x, lead, 1), kh, kw));
        x.backend().conv2dWeightGrad(x, dy, geo, dw);
        return Graph.record("conv2dWeightGrad", dw, (g, needs) -> new Tensor[] {
                needs[0] ? dataGrad(dy, g, geo, h, wd) : null,
                needs[1] ? conv2d(x, g, null, geo) : null}, x, dy);
    }

    /** 1 for a batched weight (S, Co, Ci, Kh, Kw), 0 for a plain one (Co, Ci, Kh, Kw). */
    private static int lead(String op, String what, Tensor w) {
        int r = w.shape().rank();
        Checks.argument(r == 4 || r == 5, op + ": " + what + " must have rank 4, or 5 (batched students), got shape " + w.shape());
        return r - 4;
    }

    /** Axis i of the per-student shape (after the leading S, if any). */
    private static int dim(Tensor t, int lead, int i) {
        return t.shape().dim(lead + i);
    }

    private static void sameStudents(String op, int lead, Tensor a, Tensor b) {
        Checks.argument(lead == 0 || a.shape().dim(0) == b.shape().dim(0),
                op + ": " + a.shape() + " and " + b.shape() + " differ in their leading (student) extent");
    }

    /** (S, n, c, h, w) with t's leading S when batched, else (n, c, h, w). */
    private static Shape shape(Tensor t, int lead, int n, int c, int h, int w) {
        return lead == 1 ? Shape.of(t.shape().dim(0), n, c, h, w) : Shape.of(n, c, h, w);
    }
}
