package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.plus;
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
 *
 * <p>Batches (S students, out (S, M, N) = op(a[s]) op(b[s])) are one launch: the student and
 * the K slice share gridDim.z (kernels/gemm.cu), and cuBLAS gets one strided-batched call.
 */
public final class GemmKernel {
    /** Which implementation runs: the readable reference, the production kernel, or cuBLAS. */
    public enum Version { NAIVE, TILED, CUBLAS }

    /**
     * S products of one shape: operand s of A, B, C starts {@code s * stride} floats after the
     * base address. {@link #ONE} is a plain product.
     */
    record Batch(int count, long strideA, long strideB, long strideC) {
        static final Batch ONE = new Batch(1, 0, 0, 0);
    }

    static final int TILE = 128;
    /** Blocks that fill an H100 twice over (2 resident blocks on each of 132 SMs). */
    private static final int TARGET_BLOCKS = 264;
    /** Shortest K a split may get: below this the partial traffic costs more than it saves. */
    private static final int MIN_SPLIT_K = 512;

    private final Launcher launcher;
    private final Cublas cublas;
    private final CudaBackend backend;
    private final CUfunction naive;
    /** [precision][transA * 2 + transB] */
    private final KernelModule.Entry[][] tiled = new KernelModule.Entry[Precision.values().length][4];
    private volatile Precision precision = Precision.fromEnvironment(System.getenv("MKDT_CUDA_PRECISION"));

    GemmKernel(KernelModule m, Launcher launcher, Cublas cublas, CudaBackend backend) {
        this.launcher = launcher;
        this.cublas = cublas;
        this.backend = backend;
        naive = m.function("gemm_naive_f32");
        for (Precision p : Precision.values()) {
            for (int idx = 0; idx < 4; idx++) tiled[p.ordinal()][idx] = m.entry(tiledName(idx, p));
        }
    }

    private static String tiledName(int idx, Precision p) {
        return "gemm_tiled_" + ((idx & 2) != 0 ? "t" : "n") + ((idx & 1) != 0 ? "t" : "n") + "_" + p.suffix();
    }

    /** The tiled kernels' arithmetic (and the implicit-GEMM convolutions', which share the tile). */
    Precision precision() {
        return precision;
    }

    Precision precision(Precision p) {
        Precision old = precision;
        precision = java.util.Objects.requireNonNull(p, "precision");
        return old;
    }

    /** The version {@link CudaBackend#gemm} uses: cuBLAS where it loaded, else the tiled kernel. */
    public Version defaultVersion() {
        return cublas.available() ? Version.CUBLAS : Version.TILED;
    }

    /** out (M, N) = op(a) op(b), or the batched (S, M, N) product, with the default version. */
    void gemm(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out) {
        gemm(defaultVersion(), a, transA, b, transB, out);
    }

    /**
     * out (M, N) = op(a) op(b), or with a (S, ., .), b (S, ., .), out (S, M, N) the S products
     * out[s] = op(a[s]) op(b[s]) in one launch, with a chosen version (benchmarks and tests
     * compare them).
     */
    public void gemm(Version v, Tensor a, boolean transA, Tensor b, boolean transB, Tensor out) {
        backend.device().makeCurrent();
        int o = out.shape().rank() - 2; // 1 for a batch: the student axis comes first
        int count = o == 1 ? out.shape().dim(0) : 1;
        int m = out.shape().dim(o), n = out.shape().dim(o + 1);
        int k = transA ? a.shape().dim(o) : a.shape().dim(o + 1);
        int lda = a.shape().dim(o + 1), ldb = b.shape().dim(o + 1);
        if (m == 0 || n == 0 || count == 0) return;
        Batch batch = o == 1 ? new Batch(count, (long) m * k, (long) k * n, (long) m * n) : Batch.ONE;
        if (v == Version.TILED) {
            int splits = splits(count, m, n, k);
            if (splits > 1) {
                // Partial (z, s) at z * count*M*N + s * M*N: one fixed-order sum over z gives all S products.
                long len = (long) count * m * n;
                DeviceAllocator.Block partials = backend.scratch(splits * len * Float.BYTES);
                try {
                    tiledSplit(batch, m, n, k, ptr(a), lda, transA, ptr(b), ldb, transB, partials.ptr(), n, splits, len);
                    backend.reduce.sumSlices(partials.ptr(), splits, (int) len, ptr(out));
                } finally {
                    backend.releaseScratch(partials);
                }
                return;
            }
        }
        run(v, batch, m, n, k, ptr(a), lda, transA, ptr(b), ldb, transB, ptr(out), n, 0f);
    }

    /** Number of K slices for one (M, N, K) product: 1 unless few tiles and a long K. */
    static int splits(int m, int n, int k) {
        return splits(1, m, n, k);
    }

    /**
     * Number of K slices for a batch of {@code batch} (M, N, K) products: 1 unless the batch has
     * few tiles in all and K is long. In a batch of more than one the count is a power of two
     * (the nearest to the unbatched rule's, within the K limit), because the kernel decodes
     * student and slice from gridDim.z with a shift (see kernels/gemm.cu: a division there
     * costs the kernel its last registers on sm_80).
     */
    static int splits(int batch, int m, int n, int k) {
        long tiles = (long) batch * Launcher.ceilDiv(m, TILE) * Launcher.ceilDiv(n, TILE);
        if (tiles >= TARGET_BLOCKS / 2 || k < 2 * MIN_SPLIT_K) return 1;
        long byTiles = (TARGET_BLOCKS + tiles - 1) / tiles;
        int byK = k / MIN_SPLIT_K;
        int s = (int) Math.max(1, Math.min(byTiles, byK));
        if (batch == 1) return s;
        int p = Integer.highestOneBit(s);
        if (p < s && 2 * s > 3 * p && 2 * p <= byK) p *= 2;
        return p;
    }

    /** The shift that separates student and slice in blockIdx.z (kernels/gemm.cu, splitBits). */
    static int splitBits(int batch, int splits) {
        if (batch == 1) return 31; // s is always 0, so any number of slices
        if (Integer.bitCount(splits) != 1) throw new IllegalArgumentException("a batched split-K needs a power-of-two number of slices, not " + splits);
        return Integer.numberOfTrailingZeros(splits);
    }

    /**
     * Students per launch: gridDim.z = students * splits stays within the hardware's 65535
     * (beyond that, one launch per chunk of students; no realistic batch gets there).
     */
    static int studentsPerLaunch(int batch, int splits) {
        return batch == 1 ? 1 : Math.max(1, Launcher.MAX_GRID_YZ / splits);
    }

    /**
     * C (M, N) with leading dimension ldc = op(A) op(B) + beta C on raw device memory (beta 0 or
     * 1), for each product of the batch.
     */
    void run(Version v, Batch batch, int m, int n, int k, CUdeviceptr a, int lda, boolean transA, CUdeviceptr b, int ldb, boolean transB,
            CUdeviceptr c, int ldc, float beta) {
        switch (v) {
            case NAIVE -> {
                int per = Launcher.MAX_GRID_YZ;
                for (int s0 = 0; s0 < batch.count(); s0 += per) {
                    launcher.launchGrid("gemm_naive_f32", gemmCost(Math.min(per, batch.count() - s0), 1, m, n, k, beta), naive, Launcher.ceilDiv(n, 16), Math.min(Launcher.ceilDiv(m, 16), 65535),
                            Math.min(per, batch.count() - s0), 16, 16, 0, m, n, k, plus(a, s0 * batch.strideA()), lda, transA ? 1 : 0,
                            plus(b, s0 * batch.strideB()), ldb, transB ? 1 : 0, plus(c, s0 * batch.strideC()), ldc, beta,
                            batch.strideA(), batch.strideB(), batch.strideC());
                }
            }
            case TILED -> tiledSplit(batch, m, n, k, a, lda, transA, b, ldb, transB, c, ldc, 1, 0, beta);
            case CUBLAS -> {
                if (!cublas.available()) throw new IllegalStateException("cuBLAS " + cublas.status());
                cublas.sgemm(batch, m, n, k, a, lda, transA, b, ldb, transB, c, ldc, beta);
            }
        }
    }

    /** {@code count} products of (M, K) by (K, N): 2MNK FLOPs each; A and B read, C written once per K slice (and read where beta is 1). */
    private static KernelProfile.Cost gemmCost(int count, int splits, int m, int n, int k, float beta) {
        long mn = (long) m * n;
        return KernelProfile.Cost.floats(2L * mn * k * count, count * ((long) m * k + (long) k * n + mn * splits + (beta != 0f ? mn : 0)));
    }

    /**
     * The tiled kernel with K split into {@code splits} slices of ceil(K / splits): slice z of
     * product s writes op(A_s)[:, Kz] op(B_s)[Kz, :] to C + s * strideC + z * sliceStride
     * (overwriting: the caller sums).
     */
    void tiledSplit(Batch batch, int m, int n, int k, CUdeviceptr a, int lda, boolean transA, CUdeviceptr b, int ldb, boolean transB,
            CUdeviceptr c, int ldc, int splits, long sliceStride) {
        tiledSplit(batch, m, n, k, a, lda, transA, b, ldb, transB, c, ldc, splits, sliceStride, 0f);
    }

    private void tiledSplit(Batch batch, int m, int n, int k, CUdeviceptr a, int lda, boolean transA, CUdeviceptr b, int ldb, boolean transB,
            CUdeviceptr c, int ldc, int splits, long sliceStride, float beta) {
        int kChunk = splits == 1 ? k : Launcher.ceilDiv(k, splits);
        int bits = splitBits(batch.count(), splits);
        int idx = (transA ? 2 : 0) + (transB ? 1 : 0);
        Precision p = precision;
        KernelModule.Entry e = tiled[p.ordinal()][idx];
        int per = studentsPerLaunch(batch.count(), splits);
        for (int s0 = 0; s0 < batch.count(); s0 += per) {
            int students = Math.min(per, batch.count() - s0);
            launcher.launchGrid(e.name(), gemmCost(students, splits, m, n, k, beta), e.function(), Launcher.ceilDiv(n, TILE), Math.min(Launcher.ceilDiv(m, TILE), 65535), students * splits, 256, 1, 0,
                    m, n, k, plus(a, s0 * batch.strideA()), lda, plus(b, s0 * batch.strideB()), ldb, plus(c, s0 * batch.strideC()), ldc, beta,
                    kChunk, sliceStride, bits, batch.strideA(), batch.strideB(), batch.strideC());
        }
    }
}
