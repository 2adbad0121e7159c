package org.mkdt.ops;

import org.mkdt.autograd.Graph;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * Convolution 3x3 / stride 1 / padding 1 and its two gradients, as three ops that are each
 * other's backward: conv2d(x, w) is bilinear, so d/dx is dataGrad(dy, w) and d/dw is
 * weightGrad(x, dy); dataGrad and weightGrad are bilinear too, and their gradients are again
 * built from the same three. This closure is what makes the student twice differentiable.
 */
public final class Conv2d {
    private Conv2d() {}

    /** y (N, Co, H, W) = conv(x (N, Ci, H, W), w (Co, Ci, 3, 3)) + bias (Co); bias may be null. */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias) {
        checkShapes(x, w);
        if (bias != null) {
            Checks.sameKind("conv2d", x, bias);
            Checks.argument(bias.shape().equals(Shape.of(w.shape().dim(0))),
                    "conv2d: bias shape " + bias.shape() + " does not match weight " + w.shape() + " (expected (" + w.shape().dim(0) + ",))");
        }
        Shape ys = Shape.of(x.shape().dim(0), w.shape().dim(0), x.shape().dim(2), x.shape().dim(3));
        Tensor y = Tensor.zeros(x.backend(), x.dtype(), ys);
        x.backend().conv2d(x, w, bias, y);
        return Graph.record("conv2d", y, (g, needs) -> new Tensor[] {
                needs[0] ? dataGrad(g, w) : null,
                needs[1] ? weightGrad(x, g) : null,
                needs[2] ? Reduce.sum(g, false, 0, 2, 3) : null}, x, w, bias);
    }

    /** dx (N, Ci, H, W) from dy (N, Co, H, W) and w (Co, Ci, 3, 3): the transposed convolution. */
    public static Tensor dataGrad(Tensor dy, Tensor w) {
        Checks.sameKind("conv2dDataGrad", dy, w);
        Checks.rank("conv2dDataGrad", "dy", dy, 4);
        Checks.rank("conv2dDataGrad", "w", w, 4);
        Checks.argument(dy.shape().dim(1) == w.shape().dim(0),
                "conv2dDataGrad: dy " + dy.shape() + " has " + dy.shape().dim(1) + " channels but w " + w.shape() + " has " + w.shape().dim(0) + " outputs");
        Shape xs = Shape.of(dy.shape().dim(0), w.shape().dim(1), dy.shape().dim(2), dy.shape().dim(3));
        Tensor dx = Tensor.zeros(dy.backend(), dy.dtype(), xs);
        dy.backend().conv2dDataGrad(dy, w, dx);
        return Graph.record("conv2dDataGrad", dx, (g, needs) -> new Tensor[] {
                needs[0] ? conv2d(g, w, null) : null,
                needs[1] ? weightGrad(g, dy) : null}, dy, w);
    }

    /** dw (Co, Ci, 3, 3) from x (N, Ci, H, W) and dy (N, Co, H, W), summed over the batch. */
    public static Tensor weightGrad(Tensor x, Tensor dy) {
        Checks.sameKind("conv2dWeightGrad", x, dy);
        Checks.rank("conv2dWeightGrad", "x", x, 4);
        Checks.rank("conv2dWeightGrad", "dy", dy, 4);
        Checks.argument(x.shape().dim(0) == dy.shape().dim(0) && x.shape().dim(2) == dy.shape().dim(2) && x.shape().dim(3) == dy.shape().dim(3),
                "conv2dWeightGrad: x " + x.shape() + " and dy " + dy.shape() + " differ in batch or spatial size");
        Shape ws = Shape.of(dy.shape().dim(1), x.shape().dim(1), 3, 3);
        Tensor dw = Tensor.zeros(x.backend(), x.dtype(), ws);
        x.backend().conv2dWeightGrad(x, dy, dw);
        return Graph.record("conv2dWeightGrad", dw, (g, needs) -> new Tensor[] {
                needs[0] ? dataGrad(dy, g) : null,
                needs[1] ? conv2d(x, g, null) : null}, x, dy);
    }

    private static void checkShapes(Tensor x, Tensor w) {
        Checks.sameKind("conv2d", x, w);
        Checks.rank("conv2d", "x", x, 4);
        Checks.rank("conv2d", "w", w, 4);
        Checks.argument(w.shape().dim(2) == 3 && w.shape().dim(3) == 3,
                "conv2d: only 3x3 kernels are supported, w has shape " + w.shape());
        Checks.argument(x.shape().dim(1) == w.shape().dim(1),
                "conv2d: x " + x.shape() + " has " + x.shape().dim(1) + " channels but w " + w.shape() + " expects " + w.shape().dim(1));
    }
}
