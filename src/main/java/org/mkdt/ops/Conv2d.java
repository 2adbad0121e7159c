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
 */
public final class Conv2d {
    private Conv2d() {}

    /** The student's convolution: stride 1, padding kernel/2 (the output keeps the input's size for odd kernels). */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias) {
        Checks.rank("conv2d", "w", w, 4);
        return conv2d(x, w, bias, new ConvGeometry(1, w.shape().dim(2) / 2));
    }

    /** y (N, Co, Ho, Wo) = conv(x (N, Ci, H, W), w (Co, Ci, Kh, Kw)) + bias (Co); bias may be null. */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, ConvGeometry geo) {
        Checks.sameKind("conv2d", x, w);
        Checks.rank("conv2d", "x", x, 4);
        Checks.rank("conv2d", "w", w, 4);
        Checks.argument(x.shape().dim(1) == w.shape().dim(1),
                "conv2d: x " + x.shape() + " has " + x.shape().dim(1) + " channels but w " + w.shape() + " expects " + w.shape().dim(1));
        if (bias != null) {
            Checks.sameKind("conv2d", x, bias);
            Checks.argument(bias.shape().equals(Shape.of(w.shape().dim(0))),
                    "conv2d: bias shape " + bias.shape() + " does not match weight " + w.shape() + " (expected (" + w.shape().dim(0) + ",))");
        }
        int h = x.shape().dim(2), wd = x.shape().dim(3), kh = w.shape().dim(2), kw = w.shape().dim(3);
        int oh = geo.out(h, kh), ow = geo.out(wd, kw);
        Checks.argument(oh > 0 && ow > 0, "conv2d: kernel " + w.shape() + " with " + geo + " does not fit input " + x.shape());
        Tensor y = Tensor.zeros(x.backend(), x.dtype(), Shape.of(x.shape().dim(0), w.shape().dim(0), oh, ow));
        x.backend().conv2d(x, w, bias, geo, y);
        return Graph.record("conv2d", y, (g, needs) -> new Tensor[] {
                needs[0] ? dataGrad(g, w, geo, h, wd) : null,
                needs[1] ? weightGrad(x, g, geo, kh, kw) : null,
                needs[2] ? Reduce.sum(g, false, 0, 2, 3) : null}, x, w, bias);
    }

    /** The student's data gradient (stride 1, padding kernel/2): dx has dy's spatial size. */
    public static Tensor dataGrad(Tensor dy, Tensor w) {
        Checks.rank("conv2dDataGrad", "w", w, 4);
        Checks.rank("conv2dDataGrad", "dy", dy, 4);
        return dataGrad(dy, w, new ConvGeometry(1, w.shape().dim(2) / 2), dy.shape().dim(2), dy.shape().dim(3));
    }

    /** dx (N, Ci, H, W) from dy (N, Co, Ho, Wo) and w (Co, Ci, Kh, Kw): the transposed convolution. */
    public static Tensor dataGrad(Tensor dy, Tensor w, ConvGeometry geo, int h, int wd) {
        Checks.sameKind("conv2dDataGrad", dy, w);
        Checks.rank("conv2dDataGrad", "dy", dy, 4);
        Checks.rank("conv2dDataGrad", "w", w, 4);
        Checks.argument(dy.shape().dim(1) == w.shape().dim(0),
                "conv2dDataGrad: dy " + dy.shape() + " has " + dy.shape().dim(1) + " channels but w " + w.shape() + " has " + w.shape().dim(0) + " outputs");
        int kh = w.shape().dim(2), kw = w.shape().dim(3);
        Checks.argument(geo.out(h, kh) == dy.shape().dim(2) && geo.out(wd, kw) == dy.shape().dim(3),
                "conv2dDataGrad: dy " + dy.shape() + " is not the output of a " + h + "x" + wd + " input under kernel " + w.shape() + " and " + geo);
        Tensor dx = Tensor.zeros(dy.backend(), dy.dtype(), Shape.of(dy.shape().dim(0), w.shape().dim(1), h, wd));
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
        Checks.rank("conv2dWeightGrad", "x", x, 4);
        Checks.rank("conv2dWeightGrad", "dy", dy, 4);
        int h = x.shape().dim(2), wd = x.shape().dim(3);
        Checks.argument(x.shape().dim(0) == dy.shape().dim(0) && geo.out(h, kh) == dy.shape().dim(2) && geo.out(wd, kw) == dy.shape().dim(3),
                "conv2dWeightGrad: x " + x.shape() + " and dy " + dy.shape() + " do not match for a " + kh + "x" + kw + " kernel and " + geo);
        Tensor dw = Tensor.zeros(x.backend(), x.dtype(), Shape.of(dy.shape().dim(1), x.shape().dim(1), kh, kw));
        x.backend().conv2dWeightGrad(x, dy, geo, dw);
        return Graph.record("conv2dWeightGrad", dw, (g, needs) -> new Tensor[] {
                needs[0] ? dataGrad(dy, g, geo, h, wd) : null,
                needs[1] ? conv2d(x, g, null, geo) : null}, x, dy);
    }
}
