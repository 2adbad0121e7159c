package org.mkdt.ops;

import org.mkdt.autograd.Graph;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** 2x2 average pooling and its adjoint; both linear, each the other's backward. */
public final class AvgPool2 {
    private AvgPool2() {}

    /** y (N, C, H/2, W/2) from x (N, C, H, W), H and W even. */
    public static Tensor avgPool2(Tensor x) {
        Checks.rank("avgPool2", "x", x, 4);
        int h = x.shape().dim(2), w = x.shape().dim(3);
        Checks.argument(h % 2 == 0 && w % 2 == 0, "avgPool2: height and width must be even, x has shape " + x.shape());
        Tensor y = Tensor.empty(x.backend(), x.dtype(), Shape.of(x.shape().dim(0), x.shape().dim(1), h / 2, w / 2));
        x.backend().avgPool2(x, y);
        return Graph.record("avgPool2", y, (g, needs) -> new Tensor[] {avgPool2Grad(g)}, x);
    }

    /** dx (N, C, 2H, 2W): each dy value / 4 spread over its window. */
    public static Tensor avgPool2Grad(Tensor dy) {
        Checks.rank("avgPool2Grad", "dy", dy, 4);
        Shape xs = Shape.of(dy.shape().dim(0), dy.shape().dim(1), 2 * dy.shape().dim(2), 2 * dy.shape().dim(3));
        Tensor dx = Tensor.empty(dy.backend(), dy.dtype(), xs);
        dy.backend().avgPool2Grad(dy, dx);
        return Graph.record("avgPool2Grad", dx, (g, needs) -> new Tensor[] {avgPool2(g)}, dy);
    }
}
