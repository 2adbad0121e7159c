// gemm.cu — float32 GEMM family: C = op(A) · op(B) + beta · C, all matrices row-major.
//
// Shapes (every size and leading dimension is an int, counted in elements):
//   op(A): (M, K)   A stored (M, K) with lda when not transposed, (K, M) with lda when transposed
//   op(B): (K, N)   B stored (K, N) with ldb when not transposed, (N, K) with ldb when transposed
//   C    : (M, N)   ldc
//   beta : 0 -> C is overwritten and its old contents are never read (they may be NaN);
//          anything else -> C = op(A)·op(B) + beta·C (the project passes 1 to accumulate).
//   C must not alias A or B.
//
// Entry points, with the launch configuration the Java side must use:
//
//   gemm_naive_f32(int M, int N, int K, const float* A, int lda, int transA,
//                  const float* B, int ldb, int transB, float* C, int ldc, float beta,
//                  long long strideA, long long strideB, long long strideC)
//       block (16, 16, 1), grid (ceil(N/16), min(ceil(M/16), 65535), S)
//       One thread per C element; the readable reference, and any transposition pair via
//       the two int flags (0 = stored as op(), nonzero = stored transposed). Product
//       s = blockIdx.z reads A + s*strideA, B + s*strideB and writes C + s*strideC (S = 1 and
//       strides 0 for a plain product).
//
//   gemm_tiled_nn_f32(int M, int N, int K, const float* A, int lda,
//                     const float* B, int ldb, float* C, int ldc, float beta,
//                     int kChunk, long long sliceStride,
//                     int splitBits, long long strideA, long long strideB, long long strideC)
//   gemm_tiled_nt_f32(... same ...)   B stored transposed, (N, K)
//   gemm_tiled_tn_f32(... same ...)   A stored transposed, (K, M)
//   gemm_tiled_tt_f32(... same ...)   both stored transposed
//       block (256, 1, 1), grid (ceil(N/128), min(ceil(M/128), 65535), S * splits)
//       PRODUCTION: the Java side uses these four for every GEMM. blockIdx.z = (s << splitBits)
//       | z: product s (a student of a batch) reads A + s*strideA, B + s*strideB, and its K
//       slice z covers k in [z*kChunk, min(K, (z+1)*kChunk)) and writes
//       C + s*strideC + z*sliceStride. So with S > 1, splits must be 2^splitBits (1 included:
//       splitBits 0); with S = 1 any splits works with splitBits = 31 (s is always 0). A plain
//       product is S = 1, splits = 1, kChunk = K, strides and sliceStride 0.
//       S * splits <= 65535 (gridDim.z); GemmKernel.java launches larger batches in chunks.
//
//   Both kernels walk M in a block-stride loop over gridDim.y, so capping gridDim.y at 65535
//   is always correct: no limit on M (any int). gridDim.x = ceil(N/128) or ceil(N/16) is below
//   2^31-1 for any int N. Do not launch when M == 0 or N == 0 (a zero grid is a launch error);
//   K == 0 is valid and yields C = beta·C (zeros when beta == 0). Requires sm_80 or newer
//   (cp.async); the project builds for sm_90.
//   Pointers may have any 4-byte alignment and lda/ldb/ldc any value >= the row length;
//   nothing is assumed about 16-byte alignment (the float4 path for C is taken only after a
//   run-time check).
//
// Versions side by side:
//   naive  — 1 FFMA per 2 global loads (L1/L2 bound), kept as the readable reference the tiled
//            kernel is checked against on device (they must agree bit for bit, see below).
//   tiled  — register-blocked SGEMM, 128x128 block tile, BK = 8, 256 threads, each thread an
//            8x8 micro-tile split as 2x2 sub-tiles of 4x4 (rows ty*4 and 64+ty*4, columns tx*4
//            and 64+tx*4, tx = tid%16, ty = tid/16). Why:
//            * 64 accumulators per thread give 64 FFMA per 4 shared-memory float4 reads (16
//              floats), so the inner loop is FFMA-bound, not shared-memory-bound.
//            * Both shared tiles are stored k-major (As[k][m], Bs[k][n]): op(A) is transposed on
//              its way into shared memory, so a thread's 4 consecutive rows (or columns) are one
//              aligned float4. Splitting the 8 rows as 4 + 4 sixty-four apart (rather than 8
//              consecutive) makes the 16 tx lanes of a warp read 256 contiguous bytes of Bs (2
//              wavefronts, the minimum) and the 2 ty values of a warp read As as a broadcast.
//            * Rows are padded to 132 floats: 132*4 bytes keeps float4 alignment, and when a
//              warp fills a tile whose global layout is k-contiguous (A in nn/nt, B in nt/tt:
//              8 k x 4 rows per warp) the +4 pad puts the 8 k-rows on disjoint banks
//              (bank = 4k + row), so the transposing store into shared memory is conflict-free.
//            * Double-buffered shared memory filled with cp.async (sm_80+, 4-byte copies): the
//              next k-tile is copied global -> shared while the current one feeds 512 FFMA per
//              thread, without passing through registers. A register prefetch needs 8 more live
//              registers and pushed this kernel past 128 (spills, or 1 block per SM); cp.async
//              keeps it at 121-127. One cp.async.wait_all + one __syncthreads per k-tile: the
//              buffer being filled was last read in the previous k-tile, which ended with the
//              barrier.
//            * Global reads are scalar (4 bytes) and coalesced along whichever dimension of the
//              stored matrix is contiguous: 128 contiguous bytes per warp instruction for the
//              m/n-contiguous layouts (A in tn/tt, B in nn/tn), 4 full 32-byte runs of k for the
//              k-contiguous ones. Scalar copies make any lda/ldb and any pointer offset correct
//              with no alignment assumption. Each copy is predicated on its row/column and k being
//              in range; out-of-range elements are zero-filled (cp.async src-size 0), so the
//              ragged part of a tile adds exactly 0 to every accumulator: any M, N, K works
//              (1, 31, 33, 4097, ...), not just multiples of 128 or 8.
//            * Stores are bounds-checked per element. When C is 16-byte aligned and ldc % 4 == 0
//              (checked at run time, uniform per launch) full groups of 4 columns are written as
//              float4; otherwise, and at the ragged right edge, scalar stores.
//            * 16,896 bytes of static shared memory and <= 128 registers (launch bound 256 x 2),
//              so at least two blocks (16 warps) are resident per SM and one block's barrier
//              waits are covered by the other's FFMAs.
//   Small C, long K: the grid has ceil(M/128)*ceil(N/128) blocks whatever K is, so a GEMM with
//   a small C and a huge K (the conv weight gradient dW = dY·col^T, e.g. 128 x 1152 x 262144)
//   would run on a handful of SMs. The entry points therefore split K over gridDim.z into
//   partial products in a workspace, and the caller (GemmKernel.java) adds them with a
//   fixed-order reduction: deterministic, unlike split-K with atomics.
//   Batches: S students each with their own operands (batched MKDT students: S products of
//   one shape) share gridDim.z with the K slices, so S small products are one launch that
//   fills the GPU instead of S launches that each leave most SMs idle. The student and slice
//   are decoded once per block, outside gemm_tiled_body, so the batch costs the inner loop
//   nothing. Two details keep the kernel within 128 registers on sm_80, where it was already
//   at 128 before batching (measured: each alternative spilled 8-132 bytes there):
//   * the decode is a shift and a mask, not blockIdx.z / splits: with a division, the block's
//     base pointers are no longer cheap to recompute from blockIdx.z and ptxas keeps them
//     live across the k loop. Hence power-of-two splits in a batch (GemmKernel.splits).
//   * the address given to a zero-filling cp.async (src-size 0, reads nothing) is the kernel
//     parameter A or B itself (in A's / B's allocation, in the constant bank, no register),
//     not the block's offset base pointer.
//   Precision (gemm_tile.cuh): the _f32 entry points are plain FFMA (the default: results are
//   compared with a float32 CPU reference at rtol 1e-4); _3xtf32 run the same tile on the tensor
//   cores with split TF32 operands (float32-grade, held to the same tolerance by the tests), and
//   _tf32 in plain TF32 (opt-in, a looser tier). The determinism below holds for all three.
//
// Determinism and agreement between versions: every C element is summed by one thread, in
// order k = 0, 1, ..., K-1, with explicit fmaf (acc = fmaf(a_k, b_k, acc)) starting from 0, then
// beta·C is added once as fmaf(beta, C, acc). No atomics. Without split-K, naive and tiled
// therefore perform the same floating-point operations in the same order and agree bit for
// bit, and a batched product s has the same bits as the plain product of its operands (the
// batch only moves the base pointers). With split-K each slice is such a sum over its K range
// and the slices are added in slice order by sum_slices_f32 (reduce.cu): deterministic, but
// the bits depend on the number of slices.
//
// ptxas -v (nvcc 13.0, -O3), 0 bytes stack, 0 spill stores, 0 spill loads for all; registers
// nn / nt / tn / tt, 16,896 bytes shared:
//   gemm_tiled_*_f32     sm_90: 127 / 126 / 127 / 127, sm_80: 128 / 128 / 128 / 128
//   gemm_tiled_*_3xtf32  sm_90: 125 / 125 / 125 / 125, sm_80: 125 / 127 / 125 / 125
//   gemm_tiled_*_tf32    sm_90: 120 / 119 / 120 / 120, sm_80: 118 / 117 / 118 / 118
//   gemm_naive_f32       sm_90: 32, sm_80: 32
//   (FP32 before the tile moved to gemm_tile.cuh: sm_90 125 / 127 / 125 / 121, sm_80
//   128 / 127 / 128 / 127. The loop's arithmetic is the same; the pointer advance and the
//   epilogue's store helper changed, and ptxas is sensitive to both at this bound: an
//   epilogue that took n = nLeft - c instead of (c, nLeft) spilled 16-40 bytes on sm_90.)

#include <cstdint>

#include "gemm_tile.cuh"

// ---------------------------------------------------------------------------------------------
// naive
// ---------------------------------------------------------------------------------------------

extern "C" __global__ void gemm_naive_f32(int M, int N, int K,
                                          const float* __restrict__ A, int lda, int transA,
                                          const float* __restrict__ B, int ldb, int transB,
                                          float* __restrict__ C, int ldc, float beta,
                                          long long strideA, long long strideB, long long strideC)
{
    const int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= N) return;
    A += blockIdx.z * strideA;     // product s = blockIdx.z of a batch
    B += blockIdx.z * strideB;
    C += blockIdx.z * strideC;
    // Element (i, k) of op(A) lives at A[i*lda + k], or A[k*lda + i] when transposed; express both
    // as a stride along k and a stride along i so the k loop is a single pointer walk.
    const long long aStepK = transA ? (long long)lda : 1LL;
    const long long aStepI = transA ? 1LL : (long long)lda;
    const long long bStepK = transB ? 1LL : (long long)ldb;
    const long long bStepJ = transB ? (long long)ldb : 1LL;
    const float* b0 = B + (long long)col * bStepJ;

    // Unsigned so that row + gridDim.y*16 cannot overflow for M close to 2^31.
    for (unsigned row = blockIdx.y * blockDim.y + threadIdx.y; row < (unsigned)M;
         row += gridDim.y * blockDim.y) {
        const float* a = A + (long long)row * aStepI;
        const float* b = b0;
        float acc = 0.0f;
        for (int k = 0; k < K; ++k) {
            acc = fmaf(*a, *b, acc);
            a += aStepK;
            b += bStepK;
        }
        float* c = C + (long long)row * ldc + col;
        *c = (beta != 0.0f) ? fmaf(beta, *c, acc) : acc;
    }
}

// ---------------------------------------------------------------------------------------------
// tiled (production)
// ---------------------------------------------------------------------------------------------

// The tile geometry, cp.async and the k loop: gemm_tile.cuh (shared with conv2d_igemm.cu).

template <bool TA, bool TB, int PREC>
__device__ __forceinline__ void gemm_tiled_body(int M, int N, int K,
                                                const float* __restrict__ A, int lda,
                                                const float* __restrict__ B, int ldb,
                                                float* __restrict__ C, int ldc, float beta,
                                                const float* A0, const float* B0)
{
    __shared__ __align__(16) GemmTileA As[2];
    __shared__ __align__(16) GemmTileB Bs[2];

    const int tid = threadIdx.x;

    // ---- per-thread load coordinates inside a tile (independent of the tile position) ----
    // k-contiguous storage (A not transposed, B transposed): rows tid/8 + 32e, k = tid%8, so a
    //   warp instruction reads 4 full 32-byte runs of k.
    // m/n-contiguous storage (A transposed, B not transposed): k = tid/32, rows lane + 32e, so a
    //   warp instruction reads 128 contiguous bytes and the 4 elements sit at constant offsets
    //   32e from one pointer (no 64-bit stride register: keeps the kernel within 128 registers).
    const int aRow = TA ? (tid & 31) : (tid >> 3);
    const int aK   = TA ? (tid >> 5) : (tid & 7);
    const int bCol = TB ? (tid >> 3) : (tid & 31);
    const int bK   = TB ? (tid & 7) : (tid >> 5);
    // Element e of a thread is at (row + 32e, k) in either layout; only its global offset differs.
    const long long aStrideE = TA ? 32LL : 32LL * lda;
    const long long aStepT   = TA ? (long long)GEMM_BK * lda : (long long)GEMM_BK;
    const long long bStrideE = TB ? 32LL * ldb : 32LL;
    const long long bStepT   = TB ? (long long)GEMM_BK : (long long)GEMM_BK * ldb;

    const bool vecC = gemm_tile_vec_ok<GemmTileMap<PREC>::VW>(C, ldc);
    const int bn = blockIdx.x * GEMM_BN;
    const int nLeft = N - bn;

    // Block-stride loop over row tiles, so gridDim.y may be capped at 65535 for any M. Unsigned:
    // bm + gridDim.y*128 stays below 2^32 for any int M, where int could overflow.
    for (unsigned bm = blockIdx.y * GEMM_BM; bm < (unsigned)M; bm += gridDim.y * GEMM_BM) {
        // Bounds are compared against what is left of the matrix, so nothing like bm + 127 can
        // overflow int when M, N or K is close to 2^31.
        const int mLeft = M - (int)bm;

        // This thread's first load element of the current k-tile; advanced by one tile per step.
        const float* pA = TA ? A + (long long)aK * lda + (bm + aRow)
                             : A + (long long)(bm + aRow) * lda + aK;
        const float* pB = TB ? B + (long long)(bn + bCol) * ldb + bK
                             : B + (long long)bK * ldb + (bn + bCol);

        // Row/column validity is fixed for the whole k loop; fold it into a 4-bit mask.
        const unsigned aRowOk = gemm_tile_mask(aRow, mLeft), bColOk = gemm_tile_mask(bCol, nLeft);

        // Out-of-range elements are copied with src-size 0: cp.async writes zeros and reads
        // nothing. Their source address is still pointed into the operand's allocation (A0, B0:
        // the kernel parameters, see the header), so no address outside an allocation ever
        // reaches a memory instruction. Tiles are issued in order: each call then advances the
        // pointers to the next one.
        auto issue = [&](int buf, int kLeft) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const bool okA = ((aRowOk >> e) & 1u) && (aK < kLeft);
                const bool okB = ((bColOk >> e) & 1u) && (bK < kLeft);
                cp_async_f32(&As[buf][aK][aRow + 32 * e], okA ? pA + e * aStrideE : A0, okA);
                cp_async_f32(&Bs[buf][bK][bCol + 32 * e], okB ? pB + e * bStrideE : B0, okB);
            }
            pA += aStepT;
            pB += bStepT;
        };

        float acc[8][8];
        gemm_tile_k_loop<PREC>(K, As, Bs, issue, acc);

        // ---- epilogue: C = acc + beta*C, bounds-checked; old C untouched when beta == 0 ----
        using Map = GemmTileMap<PREC>;
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const int r = Map::row(i);
            if (r >= mLeft) continue;
            float* cRow = C + ((long long)bm + r) * ldc + bn;
#pragma unroll
            for (int h = 0; h < Map::GROUPS; ++h) {
                const int c = Map::col(h);
                gemm_tile_store<Map::VW>(cRow + c, &acc[i][h * Map::VW], c, nLeft, vecC, beta);
            }
        }
    }
}

// Batch and split-K over gridDim.z = S * splits: blockIdx.z = (s << splitBits) | z. Product s reads
// A + s*strideA and B + s*strideB; its slice z multiplies the K range
// [z*kChunk, min(K, (z+1)*kChunk)) and writes its partial product to
// C + s*strideC + z*sliceStride. With S == splits == 1 and kChunk == K this is the plain
// product. The caller adds the slices with a fixed-order reduction (reduce.cu), so the result
// is the same bits every run: what a weight gradient (small C, K = batch x positions) needs
// to fill the GPU without atomics. Everything here is uniform per block and computed once,
// before the body's k loop.
template <bool TA, bool TB, int PREC>
__device__ __forceinline__ void gemm_tiled_slice(int M, int N, int K,
                                                 const float* __restrict__ A, int lda,
                                                 const float* __restrict__ B, int ldb,
                                                 float* __restrict__ C, int ldc, float beta,
                                                 int kChunk, long long sliceStride, int splitBits,
                                                 long long strideA, long long strideB,
                                                 long long strideC)
{
    const unsigned s = blockIdx.z >> splitBits;
    const unsigned z = blockIdx.z & ((1u << splitBits) - 1u);
    const long long k0 = (long long)z * kChunk;
    const int kz = (int)max(0LL, min((long long)kChunk, (long long)K - k0));
    const float* a = A + s * strideA + (TA ? k0 * lda : k0);
    const float* b = B + s * strideB + (TB ? k0 : k0 * ldb);
    gemm_tiled_body<TA, TB, PREC>(M, N, kz, a, lda, b, ldb, C + s * strideC + z * sliceStride, ldc, beta,
                            A, B);
}

#define GEMM_TILED_ENTRY(NAME, TA, TB, PREC)                                                    \
    extern "C" __global__ void __launch_bounds__(GEMM_THREADS, 2)                               \
    NAME(int M, int N, int K, const float* __restrict__ A, int lda,                             \
         const float* __restrict__ B, int ldb, float* __restrict__ C, int ldc, float beta,      \
         int kChunk, long long sliceStride, int splitBits,                                      \
         long long strideA, long long strideB, long long strideC)                               \
    {                                                                                           \
        gemm_tiled_slice<TA, TB, PREC>(M, N, K, A, lda, B, ldb, C, ldc, beta, kChunk,           \
                                       sliceStride, splitBits, strideA, strideB, strideC);      \
    }

GEMM_TILED_ENTRY(gemm_tiled_nn_f32, false, false, GEMM_FP32)
GEMM_TILED_ENTRY(gemm_tiled_nt_f32, false, true, GEMM_FP32)
GEMM_TILED_ENTRY(gemm_tiled_tn_f32, true, false, GEMM_FP32)
GEMM_TILED_ENTRY(gemm_tiled_tt_f32, true, true, GEMM_FP32)
GEMM_TILED_ENTRY(gemm_tiled_nn_3xtf32, false, false, GEMM_3XTF32)
GEMM_TILED_ENTRY(gemm_tiled_nt_3xtf32, false, true, GEMM_3XTF32)
GEMM_TILED_ENTRY(gemm_tiled_tn_3xtf32, true, false, GEMM_3XTF32)
GEMM_TILED_ENTRY(gemm_tiled_tt_3xtf32, true, true, GEMM_3XTF32)
GEMM_TILED_ENTRY(gemm_tiled_nn_tf32, false, false, GEMM_TF32)
GEMM_TILED_ENTRY(gemm_tiled_nt_tf32, false, true, GEMM_TF32)
GEMM_TILED_ENTRY(gemm_tiled_tn_tf32, true, false, GEMM_TF32)
GEMM_TILED_ENTRY(gemm_tiled_tt_tf32, true, true, GEMM_TF32)
