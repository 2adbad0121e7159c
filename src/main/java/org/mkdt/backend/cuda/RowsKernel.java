package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.BLOCK;
import static org.mkdt.backend.cuda.Kernels.ptr;

import java.util.Arrays;
import jcuda.driver.CUfunction;
import org.mkdt.tensor.Tensor;

/**
 * kernels/rows.cu: gather rows by index, and the deterministic scatter-add. The indices live on
 * the host; for the scatter the host groups them by target row (CSR), so each target row sums
 * its sources in index order and no atomics are needed.
 */
final class RowsKernel {
    private final CudaBackend backend;
    private final Launcher launcher;
    private final CUfunction gather, scatterAdd;

    RowsKernel(KernelModule m, Launcher launcher, CudaBackend backend) {
        this.backend = backend;
        this.launcher = launcher;
        gather = m.function("gather_rows_f32");
        scatterAdd = m.function("scatter_add_rows_f32");
    }

    /** out (len(idx), R...) = x (M, R...)[idx]. */
    void gather(Tensor x, int[] idx, Tensor out) {
        int rowLen = out.numel() / Math.max(idx.length, 1);
        DeviceAllocator.Block d = backend.uploadInts(idx);
        try {
            launcher.launch("gather_rows_f32", KernelProfile.Cost.floats(0, 2L * out.numel()), gather, Launcher.blocks(out.numel(), BLOCK, Launcher.MAX_BLOCKS), BLOCK,
                    ptr(x), d.ptr(), ptr(out), idx.length, rowLen);
        } finally {
            backend.releaseScratch(d);
        }
    }

    /** out (M, R...) += src (len(idx), R...) at rows idx. */
    void scatterAdd(Tensor src, int[] idx, Tensor out) {
        int rowLen = src.numel() / Math.max(idx.length, 1);
        int[] csr = csr(idx);
        int targets = csr[0];
        int[] packed = Arrays.copyOfRange(csr, 1, csr.length);
        DeviceAllocator.Block d = backend.uploadInts(packed);
        try {
            var base = d.ptr();
            launcher.launch("scatter_add_rows_f32", KernelProfile.Cost.floats(src.numel(), src.numel() + 2L * targets * rowLen), scatterAdd, Launcher.blocks((long) targets * rowLen, BLOCK, Launcher.MAX_BLOCKS), BLOCK,
                    ptr(src), base, base.withByteOffset((long) targets * Integer.BYTES),
                    base.withByteOffset((long) (2 * targets + 1) * Integer.BYTES), ptr(out), targets, rowLen);
        } finally {
            backend.releaseScratch(d);
        }
    }

    /**
     * [T, target[0..T), start[0..T], srcRow[0..len)]: the distinct target rows in increasing
     * order, and for each the source positions that go to it, in index order.
     */
    static int[] csr(int[] idx) {
        Integer[] order = new Integer[idx.length];
        for (int i = 0; i < idx.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> idx[a] != idx[b] ? Integer.compare(idx[a], idx[b]) : Integer.compare(a, b));
        int t = 0;
        for (int i = 0; i < idx.length; i++) if (i == 0 || idx[order[i]] != idx[order[i - 1]]) t++;
        int[] out = new int[1 + t + (t + 1) + idx.length];
        out[0] = t;
        int target = 1, start = 1 + t, src = 1 + t + t + 1;
        int k = 0;
        for (int i = 0; i < idx.length; i++) {
            if (i == 0 || idx[order[i]] != idx[order[i - 1]]) {
                out[target + k] = idx[order[i]];
                out[start + k] = i;
                k++;
            }
            out[src + i] = order[i];
        }
        out[start + t] = idx.length;
        return out;
    }
}
