package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.ptr;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import org.mkdt.tensor.Tensor;

/**
 * kernels/gemm.cu: row-major C = op(A) op(B) (+ C). The tiled kernel (128x128 block tiles) is
 * the default; cuBLAS replaces it where it loads. When the output has too few tiles to fill
 * the GPU and K is long (a weight gradient: 128 x 1152 outputs summed over 32k positions),
 * K is split over gridDim.z into partial products that a fixed-order reduction adds up: the
 * same bits every run, unlike atomics.
 */
public final class GemmKernel {
    /** Which implementation runs: the readable reference, the production kernel, or cuBLAS. */
    public enum Version { NAIVE, TILED, CUBLAS }

    static final int TILE = 128;
    /** Blocks that fill an H100 twice over (2 resident blocks on each of 132 SMs). */
    private static final int TARGET_BLOCKS = 264;
    /** Shortest K a split may get: below this the partial traffic costs more than it saves. */
    private static final int MIN_SPLIT_K = 512;

    private final Launcher launcher;
    private final Cublas cublas;
    private final CudaBackend backend;
    private final CUfunction naive;
    private final CUfunction[] tiled = new CUfunction[4]; // index: transA * 2 + transB

    GemmKernel(KernelModule m, Launcher launcher, Cublas cublas, CudaBackend backend) {
        this.launcher = launcher;
        this.cublas = cublas;
        this.backend = backend;
        naive = m.function("gemm_naive_f32");
        tiled[0] = m.function("gemm_tiled_nn_f32");
        tiled[1] = m.function("gemm_tiled_nt_f32");
        tiled[2] = m.function("gemm_tiled_tn_f32");
        tiled[3] = m.function("gemm_tiled_tt_f32");
    }

    /** The version {@link CudaBackend#gemm} uses: cuBLAS where it loaded, else the tiled kernel. */
    public Version defaultVersion() {
        return cublas.available() ? Version.CUBLAS : Version.TILED;
    }

    /** out (M, N) = op(a) op(b), with the default version. */
    void gemm(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out) {
        gemm(defaultVersion(), a, transA, b, transB, out);
    }

    /** out (M, N) = op(a) op(b) with a chosen version (benchmarks and tests compare them). */
    public void gemm(Version v, Tensor a, boolean transA, Tensor b, boolean transB, Tensor out) {
        backend.device().makeCurrent();
        int m = out.shape().dim(0), n = out.shape().dim(1);
        int k = transA ? a.shape().dim(0) : a.shape().dim(1);
        int lda = a.shape().dim(1), ldb = b.shape().dim(1);
        if (m == 0 || n == 0) return;
        if (v == Version.TILED) {
            int splits = splits(m, n, k);
            if (splits > 1) {
                DeviceAllocator.Block partials = backend.scratch((long) splits * m * n * Float.BYTES);
                try {
                    tiledSplit(m, n, k, ptr(a), lda, transA, ptr(b), ldb, transB, partials.ptr(), n, splits, (long) m * n);
                    backend.reduce.sumSlices(partials.ptr(), splits, m * n, ptr(out));
                } finally {
                    backend.releaseScratch(partials);
                }
                return;
            }
        }
        run(v, m, n, k, ptr(a), lda, transA, ptr(b), ldb, transB, ptr(out), n, 0f);
    }

    /** Number of K slices for an (M, N, K) product: 1 unless few tiles and a long K. */
    static int splits(int m, int n, int k) {
        long tiles = (long) Launcher.ceilDiv(m, TILE) * Launcher.ceilDiv(n, TILE);
        if (tiles >= TARGET_BLOCKS / 2 || k < 2 * MIN_SPLIT_K) return 1;
        long byTiles = (TARGET_BLOCKS + tiles - 1) / tiles;
        return (int) Math.max(1, Math.min(byTiles, k / MIN_SPLIT_K));
    }

    /** C (M, N) with leading dimension ldc = op(A) op(B) + beta C on raw device memory (beta 0 or 1). */
    void run(Version v, int m, int n, int k, CUdeviceptr a, int lda, boolean transA, CUdeviceptr b, int ldb, boolean transB, CUdeviceptr c, int ldc, float beta) {
        switch (v) {
            case NAIVE -> launcher.launchGrid("gemm_naive_f32", naive, Launcher.ceilDiv(n, 16), Math.min(Launcher.ceilDiv(m, 16), 65535), 1, 16, 16, 0,
                    m, n, k, a, lda, transA ? 1 : 0, b, ldb, transB ? 1 : 0, c, ldc, beta);
            case TILED -> tiledSplit(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, 1, 0, beta);
            case CUBLAS -> {
                if (!cublas.available()) throw new IllegalStateException("cuBLAS " + cublas.status());
                cublas.sgemm(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, beta);
            }
        }
    }

    /**
     * The tiled kernel with K split into {@code splits} slices of ceil(K / splits): slice z
     * writes op(A)[:, Kz] op(B)[Kz, :] to C + z * sliceStride (overwriting: the caller sums).
     */
    void tiledSplit(int m, int n, int k, CUdeviceptr a, int lda, boolean transA, CUdeviceptr b, int ldb, boolean transB,
            CUdeviceptr c, int ldc, int splits, long sliceStride) {
        tiledSplit(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, splits, sliceStride, 0f);
    }

    private void tiledSplit(int m, int n, int k, CUdeviceptr a, int lda, boolean transA, CUdeviceptr b, int ldb, boolean transB,
            CUdeviceptr c, int ldc, int splits, long sliceStride, float beta) {
        int kChunk = splits == 1 ? k : Launcher.ceilDiv(k, splits);
        int idx = (transA ? 2 : 0) + (transB ? 1 : 0);
        String name = "gemm_tiled_" + (transA ? "t" : "n") + (transB ? "t" : "n") + "_f32";
        launcher.launchGrid(name, tiled[idx], Launcher.ceilDiv(n, TILE), Math.min(Launcher.ceilDiv(m, TILE), 65535), splits, 256, 1, 0,
                m, n, k, a, lda, b, ldb, c, ldc, beta, kChunk, sliceStride);
    }
}
