package org.mkdt.ops;

import org.mkdt.autograd.Graph;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * Views: reshape, and slice / pad for the flat parameter vector (a model is a pure function of
 * one flat vector; each layer reads a slice of it). slice and pad are each other's backward.
 */
public final class Shaping {
    private Shaping() {}

    public static Tensor reshape(Tensor x, Shape shape) {
        if (x.shape().equals(shape)) return x;
        Checks.argument(shape.numel() == x.numel(),
                "reshape: shape " + x.shape() + " cannot be viewed as " + shape + " (" + x.numel() + " vs " + shape.numel() + " elements)");
        Tensor out = x.view(shape, 0);
        return Graph.record("reshape", out, (g, needs) -> new Tensor[] {reshape(g, x.shape())}, x);
    }

    /** Flattens every axis after the first: (N, ...) to (N, rest). */
    public static Tensor flatten(Tensor x) {
        return reshape(x, Shape.of(x.shape().dim(0), x.numel() / Math.max(1, x.shape().dim(0))));
    }

    /** The elements [offset, offset + numel(shape)) of x (read in row-major order), viewed as shape. */
    public static Tensor slice(Tensor x, int offset, Shape shape) {
        Checks.argument(offset >= 0 && (long) offset + shape.numel() <= x.numel(),
                "slice: " + shape + " at offset " + offset + " does not fit in " + x.shape());
        Tensor out = x.view(shape, offset);
        return Graph.recordSlice(out, offset, (g, needs) -> new Tensor[] {pad(g, offset, x.shape())}, x);
    }

    /** A zero tensor of {@code shape} holding x's elements at [offset, offset + numel(x)): slice's adjoint. */
    public static Tensor pad(Tensor x, int offset, Shape shape) {
        Checks.argument(offset >= 0 && (long) offset + x.numel() <= shape.numel(),
                "pad: " + x.shape() + " at offset " + offset + " does not fit in " + shape);
        Tensor out = Tensor.zeros(x.backend(), x.dtype(), shape);
        x.backend().copy(x, out.view(x.shape(), offset));
        return Graph.record("pad", out, (g, needs) -> new Tensor[] {slice(g, offset, x.shape())}, x);
    }
}
