package org.mkdt.ops;

import org.mkdt.autograd.Graph;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** Row gather (a minibatch of a synthetic set) and scatter-add, each the other's backward. */
public final class Rows {
    private Rows() {}

    /** out (len(idx), R...) = x (M, R...)[idx]. */
    public static Tensor gather(Tensor x, int[] idx) {
        Checks.argument(x.shape().rank() >= 1, "gather: x must have rank >= 1, got shape " + x.shape());
        int m = x.shape().dim(0);
        checkIndices("gather", idx, m, x.shape());
        int[] d = x.shape().dims();
        d[0] = idx.length;
        Tensor out = Tensor.empty(x.backend(), x.dtype(), Shape.of(d));
        x.backend().gatherRows(x, idx, out);
        int[] frozen = idx.clone();
        return Graph.record("gather", out, (g, needs) -> new Tensor[] {scatterAdd(g, frozen, m)}, x);
    }

    /** out (rows, R...) with out[idx[i]] += src[i]; duplicate indices add up. */
    public static Tensor scatterAdd(Tensor src, int[] idx, int rows) {
        Checks.argument(src.shape().rank() >= 1 && src.shape().dim(0) == idx.length,
                "scatterAdd: src " + src.shape() + " must have one row per index (" + idx.length + " indices)");
        int[] d = src.shape().dims();
        d[0] = rows;
        Shape outShape = Shape.of(d);
        checkIndices("scatterAdd", idx, rows, outShape);
        Tensor out = Tensor.zeros(src.backend(), src.dtype(), outShape);
        src.backend().scatterAddRows(src, idx, out);
        int[] frozen = idx.clone();
        return Graph.record("scatterAdd", out, (g, needs) -> new Tensor[] {gather(g, frozen)}, src);
    }

    private static void checkIndices(String op, int[] idx, int rows, Shape shape) {
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= rows) {
                throw new IllegalArgumentException(op + ": index " + idx[i] + " at position " + i + " is out of range for " + rows + " rows of " + shape);
            }
        }
    }
}
