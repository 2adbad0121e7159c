package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.BLOCK;
import static org.mkdt.backend.cuda.Kernels.ptr;

import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import org.mkdt.tensor.Tensor;

/**
 * kernels/reduce.cu: sum or max over the axes where out has extent 1. One block per output
 * element; when there are few outputs and long reductions (a loss, a bias gradient), each
 * output is split into chunks reduced by separate blocks into partials, and a second launch
 * reduces the partials in a fixed order. No atomics, so results are the same bits every run.
 */
final class ReduceKernel {
    static final int MAX_RANK = 6;
    /** Blocks that keep every SM of an H100 (132) busy several times over. */
    private static final int TARGET_BLOCKS = 1024;
    /** Below this many elements per output, one block is enough. */
    private static final int MIN_CHUNK = 4096;

    enum Kind { SUM, MAX }

    private final CudaBackend backend;
    private final Launcher launcher;
    private final CUfunction reduce, sumSlices;

    ReduceKernel(KernelModule m, Launcher launcher, CudaBackend backend) {
        this.launcher = launcher;
        this.backend = backend;
        reduce = m.function("reduce_f32");
        sumSlices = m.function("sum_slices_f32");
    }

    /**
     * struct ReduceWalk { int keptRank; int keptDims[6]; int keptStrides[6]; int redRank;
     * int redDims[6]; int redStrides[6]; }: x's axes split into kept and reduced ones, extent-1
     * axes dropped and neighbours of the same kind merged (row-major strides stay exact).
     */
    static int[] walk(int[] xDims, int[] outDims) {
        int r = xDims.length;
        int[] stride = new int[r];
        int s = 1;
        for (int i = r - 1; i >= 0; i--) {
            stride[i] = s;
            s *= xDims[i];
        }
        List<int[]> kept = new ArrayList<>(), red = new ArrayList<>(); // {dim, stride}
        Boolean lastKept = null;
        for (int i = 0; i < r; i++) {
            if (xDims[i] == 1) continue;
            boolean k = outDims[i] != 1;
            List<int[]> list = k ? kept : red;
            if (lastKept != null && lastKept == k) {
                int[] prev = list.get(list.size() - 1);
                prev[0] *= xDims[i];
                prev[1] = stride[i];
            } else {
                list.add(new int[] {xDims[i], stride[i]});
            }
            lastKept = k;
        }
        if (red.isEmpty()) red.add(new int[] {1, 0});
        if (kept.size() > MAX_RANK || red.size() > MAX_RANK) {
            throw new IllegalArgumentException("reduction of shape " + java.util.Arrays.toString(xDims) + " alternates kept and reduced axes more than " + MAX_RANK + " times");
        }
        int[] w = new int[2 + 4 * MAX_RANK];
        w[0] = kept.size();
        for (int j = 0; j < kept.size(); j++) {
            w[1 + j] = kept.get(j)[0];
            w[1 + MAX_RANK + j] = kept.get(j)[1];
        }
        int b = 1 + 2 * MAX_RANK;
        w[b] = red.size();
        for (int j = 0; j < red.size(); j++) {
            w[b + 1 + j] = red.get(j)[0];
            w[b + 1 + MAX_RANK + j] = red.get(j)[1];
        }
        return w;
    }

    /** Chunks per output so that about TARGET_BLOCKS blocks run, each over at least MIN_CHUNK elements. */
    static int chunks(int numOut, int redLen) {
        if ((long) numOut * 4 >= TARGET_BLOCKS || redLen <= MIN_CHUNK) return 1;
        int byWork = (redLen + MIN_CHUNK - 1) / MIN_CHUNK;
        int byBlocks = (TARGET_BLOCKS + numOut - 1) / numOut;
        return Math.max(1, Math.min(byWork, byBlocks));
    }

    /** out (len) = sum over s of partials (slices, len), in slice order: the second half of a split-K product. */
    void sumSlices(CUdeviceptr partials, int slices, int len, CUdeviceptr out) {
        launcher.launch("sum_slices_f32", KernelProfile.Cost.floats((long) slices * len, (long) (slices + 1) * len), sumSlices, Launcher.blocks(len, BLOCK, Launcher.MAX_BLOCKS), BLOCK, partials, out, slices, len);
    }

    void reduce(Kind kind, Tensor x, Tensor out) {
        int numOut = out.numel();
        int redLen = x.numel() / Math.max(numOut, 1);
        int[] w = walk(x.shape().dims(), out.shape().dims());
        int code = kind == Kind.SUM ? 0 : 1;
        int chunks = chunks(numOut, redLen);
        if (chunks == 1) {
            launcher.launch("reduce_f32", KernelProfile.Cost.floats(x.numel(), (long) x.numel() + numOut), reduce, numOut, BLOCK, code, ptr(x), ptr(out), numOut, redLen, 1, w);
            return;
        }
        DeviceAllocator.Block partials = backend.scratch((long) numOut * chunks * Float.BYTES);
        try {
            CUdeviceptr p = partials.ptr();
            launcher.launch("reduce_f32", KernelProfile.Cost.floats(x.numel(), (long) x.numel() + (long) numOut * chunks), reduce, numOut * chunks, BLOCK, code, ptr(x), p, numOut, redLen, chunks, w);
            int[] second = walk(new int[] {numOut, chunks}, new int[] {numOut, 1});
            launcher.launch("reduce_f32", KernelProfile.Cost.floats((long) numOut * chunks, (long) numOut * (chunks + 1)), reduce, numOut, BLOCK, code, p, ptr(out), numOut, chunks, 1, second);
        } finally {
            backend.releaseScratch(partials);
        }
    }
}
