package org.mkdt.backend.cpu;

import org.mkdt.tensor.Tensor;

/**
 * Row gather and its adjoint, scatter-add. Scatter is parallel over column blocks and walks
 * the index list in order inside each block, so duplicate indices add up deterministically.
 */
final class RowsKernel {
    private static final int COLUMN_BLOCK = 1024;

    private RowsKernel() {}

    static void gather(Tensor x, int[] idx, Tensor out) {
        int row = x.numel() / x.shape().dim(0);
        Buf xb = Buf.of(x), ob = Buf.of(out);
        Parallel.forRange(idx.length, Parallel.grain(idx.length, row, 1 << 15), (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                int src = idx[i] * row, dst = i * row;
                for (int j = 0; j < row; j++) ob.set(dst + j, xb.get(src + j));
            }
        });
    }

    static void scatterAdd(Tensor src, int[] idx, Tensor out) {
        int row = out.numel() / out.shape().dim(0);
        Buf sb = Buf.of(src), ob = Buf.of(out);
        int blocks = (row + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        Parallel.forRange(blocks, 1, (lo, hi) -> {
            for (int b = lo; b < hi; b++) {
                int j0 = b * COLUMN_BLOCK, j1 = Math.min(row, j0 + COLUMN_BLOCK);
                for (int i = 0; i < idx.length; i++) {
                    int s = i * row, d = idx[i] * row;
                    for (int j = j0; j < j1; j++) ob.add(d + j, sb.get(s + j));
                }
            }
        });
    }
}
