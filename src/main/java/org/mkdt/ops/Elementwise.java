package org.mkdt.ops;

import org.mkdt.autograd.Graph;
import org.mkdt.backend.BinaryOp;
import org.mkdt.backend.UnaryOp;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * Elementwise ops with numpy broadcasting. Each backward rule is a few lines of other ops, so
 * it is differentiable again; a broadcast input gets its gradient summed back to its shape.
 */
public final class Elementwise {
    private Elementwise() {}

    // ---- binary -----------------------------------------------------------------------------

    public static Tensor add(Tensor a, Tensor b) {
        Tensor out = binary(BinaryOp.ADD, "add", a, b);
        return Graph.record("add", out, (g, needs) -> new Tensor[] {
                needs[0] ? Reduce.sumTo(g, a.shape()) : null,
                needs[1] ? Reduce.sumTo(g, b.shape()) : null}, a, b);
    }

    public static Tensor sub(Tensor a, Tensor b) {
        Tensor out = binary(BinaryOp.SUB, "sub", a, b);
        return Graph.record("sub", out, (g, needs) -> new Tensor[] {
                needs[0] ? Reduce.sumTo(g, a.shape()) : null,
                needs[1] ? Reduce.sumTo(neg(g), b.shape()) : null}, a, b);
    }

    public static Tensor mul(Tensor a, Tensor b) {
        Tensor out = binary(BinaryOp.MUL, "mul", a, b);
        return Graph.record("mul", out, (g, needs) -> new Tensor[] {
                needs[0] ? Reduce.sumTo(mul(g, b), a.shape()) : null,
                needs[1] ? Reduce.sumTo(mul(g, a), b.shape()) : null}, a, b);
    }

    /** a / b; d/db = -g * (a / b) / b, written with the output so it stays one graph. */
    public static Tensor div(Tensor a, Tensor b) {
        Tensor out = binary(BinaryOp.DIV, "div", a, b);
        return Graph.record("div", out, (g, needs) -> new Tensor[] {
                needs[0] ? Reduce.sumTo(div(g, b), a.shape()) : null,
                needs[1] ? Reduce.sumTo(neg(div(mul(g, out), b)), b.shape()) : null}, a, b);
    }

    /**
     * The ReLU backward: {@code g} where {@code x > 0}, else 0. Linear in g, so its own backward
     * is the same mask applied to the incoming gradient; x only selects (no gradient to x).
     */
    public static Tensor reluGrad(Tensor g, Tensor x) {
        Tensor out = binary(BinaryOp.RELU_GRAD, "reluGrad", g, x);
        return Graph.record("reluGrad", out, (gg, needs) -> new Tensor[] {
                needs[0] ? reluGrad(gg, x) : null, null}, g, x);
    }

    private static Tensor binary(BinaryOp op, String name, Tensor a, Tensor b) {
        Checks.sameKind(name, a, b);
        Shape shape = Shape.broadcast(a.shape(), b.shape());
        Tensor out = Tensor.empty(a.backend(), a.dtype(), shape);
        a.backend().binary(op, a, b, out);
        return out;
    }

    // ---- unary ------------------------------------------------------------------------------

    public static Tensor neg(Tensor x) {
        return affine(x, -1.0, 0.0);
    }

    /** scale * x. */
    public static Tensor scale(Tensor x, double scale) {
        return affine(x, scale, 0.0);
    }

    /** scale * x + shift with scalar constants. */
    public static Tensor affine(Tensor x, double scale, double shift) {
        Tensor out = Tensor.empty(x.backend(), x.dtype(), x.shape());
        x.backend().affine(x, scale, shift, out);
        return Graph.record("affine", out, (g, needs) -> new Tensor[] {scale(g, scale)}, x);
    }

    public static Tensor exp(Tensor x) {
        Tensor out = unary(UnaryOp.EXP, x);
        return Graph.record("exp", out, (g, needs) -> new Tensor[] {mul(g, out)}, x);
    }

    public static Tensor log(Tensor x) {
        Tensor out = unary(UnaryOp.LOG, x);
        return Graph.record("log", out, (g, needs) -> new Tensor[] {div(g, x)}, x);
    }

    /** 1/sqrt(x); d/dx = -0.5 * out^3. */
    public static Tensor rsqrt(Tensor x) {
        Tensor out = unary(UnaryOp.RSQRT, x);
        return Graph.record("rsqrt", out, (g, needs) -> new Tensor[] {
                scale(mul(g, mul(out, mul(out, out))), -0.5)}, x);
    }

    public static Tensor relu(Tensor x) {
        Tensor out = unary(UnaryOp.RELU, x);
        return Graph.record("relu", out, (g, needs) -> new Tensor[] {reluGrad(g, x)}, x);
    }

    public static Tensor square(Tensor x) {
        return mul(x, x);
    }

    private static Tensor unary(UnaryOp op, Tensor x) {
        Tensor out = Tensor.empty(x.backend(), x.dtype(), x.shape());
        x.backend().unary(op, x, out);
        return out;
    }

    /** A constant tensor like {@code like} (same backend, dtype and shape) filled with value. */
    public static Tensor full(Tensor like, double value) {
        Tensor out = Tensor.zeros(like.backend(), like.dtype(), like.shape());
        if (value != 0.0) like.backend().fill(out, value);
        return out;
    }
}
