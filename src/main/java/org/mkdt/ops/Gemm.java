package org.mkdt.ops;

import org.mkdt.autograd.Graph;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** Matrix products. Bilinear: both gradients are matrix products again, with transposes. */
public final class Gemm {
    private Gemm() {}

    /**
     * op(a) op(b) for 2-D a, b, where op transposes when the flag is set; or batched, for 3-D a
     * (S, ., .) and b (S, ., .): S independent products (one per student), out (S, M, N).
     */
    public static Tensor matmul(Tensor a, boolean transA, Tensor b, boolean transB) {
        Checks.sameKind("matmul", a, b);
        int rank = a.shape().rank();
        Checks.argument(rank == 2 || rank == 3, "matmul: a " + a.shape() + " must be 2-D, or 3-D (batched)");
        Checks.rank("matmul", "b", b, rank);
        int lead = rank - 2;
        if (lead == 1) {
            Checks.argument(a.shape().dim(0) == b.shape().dim(0),
                    "matmul: batched operands a " + a.shape() + " and b " + b.shape() + " differ in their leading (student) extent");
        }
        int m = transA ? a.shape().dim(lead + 1) : a.shape().dim(lead);
        int ka = transA ? a.shape().dim(lead) : a.shape().dim(lead + 1);
        int kb = transB ? b.shape().dim(lead + 1) : b.shape().dim(lead);
        int n = transB ? b.shape().dim(lead) : b.shape().dim(lead + 1);
        if (ka != kb) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + (transA ? "a^T of " : "a ") + a.shape()
                    + " and " + (transB ? "b^T of " : "b ") + b.shape());
        }
        Shape outShape = lead == 1 ? Shape.of(a.shape().dim(0), m, n) : Shape.of(m, n);
        Tensor out = Tensor.empty(a.backend(), a.dtype(), outShape);
        a.backend().gemm(a, transA, b, transB, out);
        return Graph.record("matmul", out, (g, needs) -> {
            // C = op(A) op(B):  dA = dC op(B)^T (transposed back if A was),  dB = op(A)^T dC (likewise).
            Tensor ga = null, gb = null;
            if (needs[0]) ga = transA ? matmul(b, transB, g, true) : matmul(g, false, b, !transB);
            if (needs[1]) gb = transB ? matmul(g, true, a, transA) : matmul(a, !transA, g, false);
            return new Tensor[] {ga, gb};
        }, a, b);
    }

    public static Tensor matmul(Tensor a, Tensor b) {
        return matmul(a, false, b, false);
    }

    /**
     * x (B, In) W^T (In -> Out) + bias (Out): a fully connected layer, W: (Out, In). Batched: x
     * (S, B, In), W (S, Out, In), bias (S, 1, Out).
     */
    public static Tensor linear(Tensor x, Tensor w, Tensor bias) {
        Tensor y = matmul(x, false, w, true);
        return bias == null ? y : Elementwise.add(y, bias);
    }
}
