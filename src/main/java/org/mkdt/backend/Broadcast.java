package org.mkdt.backend;

import java.util.ArrayList;
import java.util.List;
import org.mkdt.tensor.Shape;

/**
 * Index arithmetic for numpy broadcasting, shared by every backend: the output is walked as
 * rows of its (coalesced) innermost dimension, and each input advances along a row with
 * stride 1 or 0. Adjacent dimensions are merged wherever every input is contiguous across
 * them, so a same-shape op is one long row and a per-channel op has only a few dimensions.
 */
public final class Broadcast {
    private final int[] dims;
    private final int[][] strides;

    private Broadcast(int[] dims, int[][] strides) {
        this.dims = dims;
        this.strides = strides;
    }

    /** Plans the walk over {@code out}; each input must broadcast to it. */
    public static Broadcast plan(Shape out, Shape... inputs) {
        int r = out.rank();
        int[] od = out.dims();
        int[][] full = new int[inputs.length][r];
        for (int k = 0; k < inputs.length; k++) {
            Shape in = inputs[k];
            if (!in.broadcastsTo(out)) {
                throw new IllegalArgumentException("shape " + in + " does not broadcast to " + out);
            }
            int off = r - in.rank();
            int stride = 1;
            for (int i = r - 1; i >= 0; i--) {
                int d = i < off ? 1 : in.dim(i - off);
                full[k][i] = (d == 1 && od[i] != 1) ? 0 : stride;
                stride *= d;
            }
        }
        // Drop size-1 dims, then merge neighbours that are contiguous for every input.
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < r; i++) if (od[i] != 1) keep.add(i);
        List<int[]> merged = new ArrayList<>(); // each: [size, stride_0, ..., stride_k]
        for (int i : keep) {
            int[] cur = new int[inputs.length + 1];
            cur[0] = od[i];
            for (int k = 0; k < inputs.length; k++) cur[k + 1] = full[k][i];
            if (!merged.isEmpty()) {
                int[] prev = merged.get(merged.size() - 1);
                boolean contiguous = true;
                for (int k = 0; k < inputs.length; k++) {
                    if (prev[k + 1] != cur[k + 1] * cur[0]) contiguous = false;
                }
                if (contiguous) {
                    prev[0] *= cur[0];
                    for (int k = 0; k < inputs.length; k++) prev[k + 1] = cur[k + 1];
                    continue;
                }
            }
            merged.add(cur);
        }
        if (merged.isEmpty()) merged.add(new int[inputs.length + 1]);
        if (merged.get(0)[0] == 0 && keep.isEmpty()) merged.get(0)[0] = 1;
        int m = merged.size();
        int[] dims = new int[m];
        int[][] strides = new int[inputs.length][m];
        for (int j = 0; j < m; j++) {
            dims[j] = merged.get(j)[0];
            for (int k = 0; k < inputs.length; k++) strides[k][j] = merged.get(j)[k + 1];
        }
        return new Broadcast(dims, strides);
    }

    /** Length of one row (the innermost merged dimension). */
    public int rowLength() {
        return dims[dims.length - 1];
    }

    public int rows() {
        int n = 1;
        for (int i = 0; i < dims.length - 1; i++) n *= dims[i];
        return n;
    }

    /** Stride of input k along a row: 1 (or more) when it varies, 0 when broadcast. */
    public int rowStride(int k) {
        return strides[k][dims.length - 1];
    }

    /** Element offset of input k at the start of row {@code row}. */
    public int rowStart(int k, int row) {
        int off = 0;
        int rem = row;
        for (int i = dims.length - 2; i >= 0; i--) {
            int idx = rem % dims[i];
            rem /= dims[i];
            off += idx * strides[k][i];
        }
        return off;
    }

    /** Merged dimensions (for device kernels that take the walk as arguments). */
    public int[] dims() {
        return dims.clone();
    }

    /** Merged strides of input k. */
    public int[] strides(int k) {
        return strides[k].clone();
    }
}
