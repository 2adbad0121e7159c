package org.mkdt.nn;

import org.mkdt.ops.BatchNorm;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Gemm;
import org.mkdt.tensor.Tensor;

/**
 * The Barlow Twins projector: Linear(in -> dim) -> BatchNorm1d -> ReLU -> Linear(dim -> dim),
 * a pure function of one flat parameter vector like the student. Batch norm uses the batch's
 * statistics: the projector only exists during teacher training.
 */
public final class Projector {
    private final ParamLayout layout;

    public Projector(int in, int dim) {
        if (in < 1 || dim < 1) throw new IllegalArgumentException("projector: sizes must be positive, got " + in + " -> " + dim);
        layout = new ParamLayout.Builder()
                .add("l1.w", dim, in).add("l1.b", dim)
                .add("bn.gamma", dim).add("bn.beta", dim)
                .add("l2.w", dim, dim).add("l2.b", dim)
                .build();
    }

    public ParamLayout layout() {
        return layout;
    }

    /** z (B, dim) from features h (B, in). */
    public Tensor forward(Tensor phi, Tensor h) {
        Tensor a = Gemm.linear(h, layout.view(phi, "l1.w"), layout.view(phi, "l1.b"));
        a = Elementwise.relu(BatchNorm.train(a, layout.view(phi, "bn.gamma"), layout.view(phi, "bn.beta"), null));
        return Gemm.linear(a, layout.view(phi, "l2.w"), layout.view(phi, "l2.b"));
    }
}
