package org.mkdt.ops;

import org.mkdt.autograd.Graph;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** Matrix products. Bilinear: both gradients are matrix products again, with transposes. */
public final class Gemm {
    private Gemm() {}

    /** op(a) op(b) for 2-D a, b, where op transposes when the flag is set. */
    public static Tensor matmul(Tensor a, boolean transA, Tensor b, boolean transB) {
        Checks.sameKind("matmul", a, b);
        Checks.rank("matmul", "a", a, 2);
        Checks.rank("matmul", "b", b, 2);
        int m = transA ? a.shape().dim(1) : a.shape().dim(0);
        int ka = transA ? a.shape().dim(0) : a.shape().dim(1);
        int kb = transB ? b.shape().dim(1) : b.shape().dim(0);
        int n = transB ? b.shape().dim(0) : b.shape().dim(1);
        if (ka != kb) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + (transA ? "a^T of " : "a ") + a.shape()
                    + " and " + (transB ? "b^T of " : "b ") + b.shape());
        }
        Tensor out = Tensor.zeros(a.backend(), a.dtype(), Shape.of(m, n));
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

    /** x (B, In) W^T (In -> Out) + bias (Out): a fully connected layer, W: (Out, In). */
    public static Tensor linear(Tensor x, Tensor w, Tensor bias) {
        Tensor y = matmul(x, false, w, true);
        return bias == null ? y : Elementwise.add(y, bias);
    }
}
