// conv2d_igemm.cu — 2-D convolution as implicit GEMM: the tiled GEMM of gemm.cu
// (gemm_tile.cuh) whose operand tiles are gathered straight from the images in NCHW and whose
// results are stored straight into NCHW, so no column matrix, no layout permutation and no
// workspace exist. Convolution as in PyTorch (cross-correlation): x (N, Ci, H, W),
// w (Co, Ci, Kh, Kw), stride s, zero padding p on both axes, Ho = (H + 2p - Kh)/s + 1,
// Wo = (W + 2p - Kw)/s + 1, R = Ci*Kh*Kw, P = Ho*Wo. All tensors float32, contiguous.
//
// The three products, each as _f32, _3xtf32 and _tf32 with the same arguments (row
// r = (ci*Kh + kh)*Kw + kw of the implicit column matrix, column
// q = n*P + ho*Wo + wo; col[r][q] = x[n][ci][ho*s - p + kh][wo*s - p + kw], 0 in the padding):
//
//   conv_igemm_forward_f32(x, w, bias, y, N, Ci, H, W, Co, Kh, Kw, Ho, Wo, stride, pad,
//                          xStride, wStride, yStride)
//       y[n][co][ho][wo] = sum_r w[co][r] col[r][q] + bias[co]      M = Co, N = N*P, K = R
//       bias may be NULL (0); y is overwritten.
//
//   conv_igemm_data_grad_f32(dy, w, dx, N, Ci, H, W, Co, Kh, Kw, Ho, Wo, pad,
//                            dyStride, wStride, dxStride)                       stride 1 only
//       dx[n][ci][h][w] = sum over (co, kh, kw) of w[co][ci][kh][kw] dy[n][co][h+p-kh][w+p-kw]
//       (terms outside dy are 0)                                     M = Ci, N = N*H*W, K = Co*Kh*Kw
//       The transposed convolution as one gather per output: dx is overwritten, no col2im, no
//       atomics. With stride s > 1 only every s-th tap hits; the Java side keeps im2col there.
//
//   conv_igemm_weight_grad_f32(x, dy, dw, N, Ci, H, W, Co, Kh, Kw, Ho, Wo, stride, pad,
//                              kChunk, sliceStride, splitBits, xStride, dyStride, dwStride)
//       dw[co][r] = sum_q dy[n][co][p] col[r][q]                           M = Co, N = R, K = N*P
//       Split-K over gridDim.z exactly as gemm.cu's tiled entry points: blockIdx.z =
//       (s << splitBits) | z, slice z covers q in [z*kChunk, min(K, (z+1)*kChunk)) and writes
//       its partial product to dw + s*dwStride + z*sliceStride; the caller adds the slices in
//       slice order (reduce.cu's sum_slices_f32). One slice (kChunk = K) is dw itself. The
//       output is overwritten; its old contents are never read.
//
//   All: block (256, 1, 1), grid (ceil(N_gemm/128), ceil(M/128), S * splits) with S students
//   on gridDim.z (forward and data gradient: splits 1, splitBits 0); student s reads and writes
//   its tensors at the base pointers plus s times the per-student strides (elements, 64-bit).
//   gridDim.y = ceil(M/128) <= 65535 (M = Co or Ci < 8,388,480) and S * splits <= 65535 are the
//   caller's to check. Sizes within one student are ints: N*Ci*H*W, N*Co*Ho*Wo and N*P must be
//   < 2^31 (the Java side falls back to im2col otherwise). Do not launch an empty grid.
//
// Design:
//   * The tile, its cp.async double buffering and the k loop are gemm.cu's, unchanged
//     (gemm_tile.cuh): the same FFMA-bound inner loop, 64 accumulators per thread.
//   * Gathers decode as little as possible per k-tile. Whatever depends only on a tile column
//     (n, ho, wo of q for forward and data gradient; ci, kh, kw of r for the weight gradient) is
//     decoded once per block, before the k loop; per k-tile a thread decodes only its own k
//     (one r or one q): one division pair per k-tile, amortised over its 4 copies.
//   * Padding costs no branch in the copy: a tap outside the image is a cp.async with src-size
//     0 (a zero fill) at the tensor's base address, as gemm.cu does for ragged edges.
//   * Loads stay coalesced where the layout allows it: forward and data gradient read the
//     image along q (32 consecutive output positions per warp, one row segment of the image per
//     tap for stride 1), the weight gradient reads both dy and x along q (8 consecutive
//     positions per group of 8 lanes), as the tiled GEMM's k-contiguous operands do.
//   * Stores: forward and data gradient write 4 consecutive q of one output channel as one
//     float4 when P % 4 == 0 and the output is 16-byte aligned (checked per launch); otherwise,
//     and across an image boundary, scalar stores. The weight gradient's C is row-major (Co, R).
//
// Precision: each entry point at each of gemm_tile.cuh's arithmetics (_f32 FFMA, _3xtf32 and
// _tf32 tensor cores). Results below are for _f32; the tensor-core ones keep the determinism
// (same bits every run, batched = unbatched for forward and data gradient) with their own sums.
// Results: every output element is one thread's sum over k = 0..K-1 in order, by fmaf from 0,
// the bias then added once (acc + bias). The forward pass therefore has the same bits as
// im2col + the tiled GEMM + cgp_to_gcp (the same products in the same order). The data gradient
// sums over (co, kh, kw) in one chain where im2col's path sums over co per tap and then the taps
// (col2im): the same terms, another order, so equal within float32 rounding. The weight
// gradient's slices are the same as im2col's whenever the split is the same.
//
// ptxas -v (nvcc 13.0, -O3), registers sm_90 / sm_80, 0 bytes stack, 0 spill stores, 0 spill
// loads, under the GEMM's launch bound 256 x 2:
//                  forward     data_grad   weight_grad
//   _f32           128 / 124   128 / 123   127 / 127
//   _3xtf32        126 / 125   127 / 127   123 / 122
//   _tf32          128 / 128   127 / 125   112 / 107
// Shared memory 16,896 bytes (the GEMM's), 17,920 for the weight gradient (its tap table). At
// the bound on sm_90: the windows are packed (ColumnWindows), the offsets 32-bit, the weight
// gradient's taps in shared memory and the forward pass's weights read without a k decode,
// because each of those, in registers, spilled 4-56 bytes.

#include <climits>
#include <cstdint>

#include "gemm_tile.cuh"

// Where the output columns of one block tile start in an NCHW tensor: for each of this thread's
// 4 gather columns (bCol + 32e), q = n*P + pos decoded once per block into the window's first
// row and column (row0, col0) = (pos / Wout, pos % Wout) * step + off, kept as the flat offset
// base = n*imageFloats + row0*Ws + col0 and, for the bounds checks, both packed in one int as
// 16-bit halves (the Java side keeps every image side below 2^14). Columns past the end get
// row0 = -2^14, which no tap brings into range. Eight registers for the four columns, not twelve:
// the forward kernel is at the 128-register bound.
struct ColumnWindows {
    int base[4];
    int rowCol[4];
};

__device__ __forceinline__ int window_row(int rowCol) { return rowCol >> 16; }
__device__ __forceinline__ int window_col(int rowCol) { return (int)(short)(rowCol & 0xffff); }

__device__ __forceinline__ ColumnWindows column_windows(int bn, int bCol, int nq, int P, int Wout, int Ws,
                                                        long long imageFloats, int step, int off)
{
    ColumnWindows c;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
        const int q = bn + bCol + 32 * e;
        int row0 = -(1 << 14), col0 = 0, image = 0;
        if (q < nq) {
            const int n = q / P;
            const int pos = q - n * P;
            const int ho = pos / Wout;
            image = (int)(n * imageFloats);
            row0 = ho * step + off;
            col0 = (pos - ho * Wout) * step + off;
        }
        c.base[e] = image + row0 * Ws + col0;
        c.rowCol[e] = (int)(((unsigned)row0 << 16) | ((unsigned)col0 & 0xffffu));
    }
    return c;
}

// Stores acc + bias[m] (bias may be NULL) for the tile at (bm, bn) of C (M, nq) into the NCHW
// tensor out (n, M, P): column q = n*P + pos goes to out[n][m][pos]. Offsets are 32-bit (the
// output of one student is below 2^31 floats): the forward kernel's epilogue is where it meets
// the 128-register bound. vec: P is a multiple of the group width VW and out is aligned for it.
template <int PREC>
__device__ __forceinline__ void store_nchw(const float (&acc)[8][8], int bm, int bn, int M, int nq, int P,
                                           const float* __restrict__ bias, float* __restrict__ out, bool vec)
{
    using Map = GemmTileMap<PREC>;
    constexpr int VW = Map::VW;
#pragma unroll
    for (int h = 0; h < Map::GROUPS; ++h) {
        const int c = bn + Map::col(h);
        if (c >= nq) continue;
        const int n = c / P;
        const int pos = c - n * P;
        // VW consecutive columns c.. in one image: one vector store when aligned; else one by one.
        const bool whole = vec && c + (VW - 1) < nq && pos + (VW - 1) < P;
        const int first = n * M * P + pos;     // out[n][0][pos]
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const int m = bm + Map::row(i);
            if (m >= M) continue;
            const float b = bias ? bias[m] : 0.0f;
            const float* v = &acc[i][h * VW];
            if (whole) {
                float* dst = out + first + m * P;
                if (VW == 4) *reinterpret_cast<float4*>(dst) = make_float4(v[0] + b, v[1] + b, v[2] + b, v[3] + b);
                else *reinterpret_cast<float2*>(dst) = make_float2(v[0] + b, v[1] + b);
            } else {
                for (int j = 0; j < VW && c + j < nq; ++j) {
                    const int nj = (c + j) / P;
                    out[(nj * M + m) * P + (c + j - nj * P)] = v[j] + b;
                }
            }
        }
    }
}

// The implicit column operand of the forward pass and the data gradient, B (K, nq) with
// K = C*Kh*Kw over the gathered tensor src (n, C, Hs, Ws): element (k, q), k = (c*Kh + kh)*Kw + kw,
// is src[n][c][row0 + SIGN*kh][col0 + SIGN*kw] (0 outside), the window (row0, col0) of q given by
// column_windows. SIGN +1: the forward pass's receptive field; -1: the data gradient's
// transposed window. The thread's copies: k = bK (= tid/32) of the k-tile, columns bCol + 32e.
template <int SIGN>
__device__ __forceinline__ void gather_windows(float* __restrict__ bs_k /* &Bs[buf][bK][0] */, int bCol,
                                               const float* __restrict__ src, const ColumnWindows& win,
                                               int k, int K, int KK, int Kw, int Hs, int Ws)
{
    int c = 0, kh = 0, kw = 0;
    if (k < K) {
        c = k / KK;
        const int t = k - c * KK;
        kh = t / Kw;
        kw = t - kh * Kw;
    }
    const int tap = c * Hs * Ws + SIGN * (kh * Ws + kw);
#pragma unroll
    for (int e = 0; e < 4; ++e) {
        const int row = window_row(win.rowCol[e]) + SIGN * kh;
        const int col = window_col(win.rowCol[e]) + SIGN * kw;
        const bool ok = k < K && (unsigned)row < (unsigned)Hs && (unsigned)col < (unsigned)Ws;
        cp_async_f32(bs_k + bCol + 32 * e, ok ? src + win.base[e] + tap : src, ok);
    }
}

// The forward pass and the data gradient are one product shape: out (n, M, Hout, Wout) =
// A (M, K) . the windows of src (n, C, Hs, Ws), K = C*Kh*Kw, k = c*KK + t, t = kh*Kw + kw.
// Forward (DATA_GRAD false): A = w (Co, R) as stored, A(m, k) = w[m*K + k], windows forward
// (SIGN +1). Data gradient: A(m, k) = w[c][m][t] of w (Co, Ci, KK), read transposed, so each
// k-tile decodes its k into (c, t); windows transposed (SIGN -1). Two instantiations rather than
// a run-time stride pair: the forward kernel has no register for the decode (20 bytes of spills
// on sm_90 when it had one).
template <bool DATA_GRAD, int PREC>
__device__ __forceinline__ void conv_igemm_windows(const float* __restrict__ src, const float* __restrict__ w,
                                                   const float* __restrict__ bias, float* __restrict__ out,
                                                   int N, int C, int Hs, int Ws, int M, int Hout, int Wout, int Kh, int Kw,
                                                   int step, int off)
{
    constexpr int SIGN = DATA_GRAD ? -1 : 1;
    __shared__ __align__(16) GemmTileA As[2];
    __shared__ __align__(16) GemmTileB Bs[2];
    const int tid = threadIdx.x;
    const int P = Hout * Wout, nq = N * P, KK = Kh * Kw, K = C * KK;
    const int bm = blockIdx.y * GEMM_BM, bn = blockIdx.x * GEMM_BN;
    // A: rows tid/8 + 32e, k = tid%8 (gemm.cu's k-contiguous layout).
    const int aRow = tid >> 3, aK = tid & 7;
    const unsigned aRowOk = gemm_tile_mask(bm + aRow, M);
    const int mStride = DATA_GRAD ? KK : K;
    const float* pA = w + (long long)(bm + aRow) * mStride;
    // B: the windows, k = tid/32, columns tid%32 + 32e.
    const int bK = tid >> 5, bCol = tid & 31;
    const ColumnWindows win = column_windows(bn, bCol, nq, P, Wout, Ws, (long long)C * Hs * Ws, step, off);

    auto issue = [&](int buf, int kLeft) {
        const int k = K - kLeft + aK;
        long long at = k;                       // forward: w[m*K + k]
        if (DATA_GRAD) {                        // w[c][m][t]: c*M*KK + t
            int c = 0, t = 0;
            if (k < K) {
                c = k / KK;
                t = k - c * KK;
            }
            at = (long long)c * M * KK + t;
        }
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const bool ok = ((aRowOk >> e) & 1u) && k < K;
            cp_async_f32(&As[buf][aK][aRow + 32 * e], ok ? pA + at + (long long)e * 32 * mStride : w, ok);
        }
        gather_windows<SIGN>(&Bs[buf][bK][0], bCol, src, win, K - kLeft + bK, K, KK, Kw, Hs, Ws);
    };
    float acc[8][8];
    gemm_tile_k_loop<PREC>(K, As, Bs, issue, acc);

    store_nchw<PREC>(acc, bm, bn, M, nq, P, bias, out, gemm_tile_vec_ok<GemmTileMap<PREC>::VW>(out, P));
}

template <int PREC>
__device__ __forceinline__ void conv_igemm_forward(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ bias,
                       float* __restrict__ y, int N, int Ci, int H, int W, int Co, int Kh, int Kw, int Ho, int Wo,
                       int stride, int pad, long long xStride, long long wStride, long long yStride)
{
    const unsigned s = blockIdx.z;
    conv_igemm_windows<false, PREC>(x + s * xStride, w + s * wStride, bias ? bias + (long long)s * Co : nullptr, y + s * yStride,
                              N, Ci, H, W, Co, Ho, Wo, Kh, Kw, stride, -pad);
}

template <int PREC>
__device__ __forceinline__ void conv_igemm_data_grad(const float* __restrict__ dy, const float* __restrict__ w, float* __restrict__ dx,
                         int N, int Ci, int H, int W, int Co, int Kh, int Kw, int Ho, int Wo, int pad,
                         long long dyStride, long long wStride, long long dxStride)
{
    const unsigned s = blockIdx.z;
    conv_igemm_windows<true, PREC>(dy + s * dyStride, w + s * wStride, nullptr, dx + s * dxStride,
                             N, Co, Ho, Wo, Ci, H, W, Kh, Kw, 1, pad);
}

template <int PREC>
__device__ __forceinline__ void conv_igemm_weight_grad(const float* __restrict__ x, const float* __restrict__ dy, float* __restrict__ dw,
                           int N, int Ci, int H, int W, int Co, int Kh, int Kw, int Ho, int Wo, int stride, int pad,
                           int kChunk, long long sliceStride, int splitBits,
                           long long xStride, long long dyStride, long long dwStride)
{
    __shared__ __align__(16) GemmTileA As[2];
    __shared__ __align__(16) GemmTileB Bs[2];
    const unsigned s = blockIdx.z >> splitBits;
    const unsigned z = blockIdx.z & ((1u << splitBits) - 1u);
    x += s * xStride;
    dy += s * dyStride;
    dw += s * dwStride + z * sliceStride;

    const int tid = threadIdx.x;
    const int P = Ho * Wo, KK = Kh * Kw, R = Ci * KK, HW = H * W;
    const long long z0 = (long long)z * kChunk;
    const int K = (int)max(0LL, min((long long)kChunk, (long long)N * P - z0));   // this slice's q
    const int q0 = (int)min(z0, (long long)N * P);                                 // its first q
    const int bm = blockIdx.y * GEMM_BM, bn = blockIdx.x * GEMM_BN;

    // A = dy as (Co, N*P): element (co, q = n*P + p) is dy[n][co][p]; rows tid/8 + 32e, q = tid%8.
    const int aRow = tid >> 3, aK = tid & 7;
    const unsigned aRowOk = gemm_tile_mask(bm + aRow, Co);
    // B^T = the column matrix as (R, q): columns r = tid/8 + 32e, q = tid%8. The tap of each of
    // the block's 128 columns (its x offset ci*H*W + (kh-p)*W + (kw-p), and kh-p, kw-p packed as
    // in ColumnWindows) is decoded once into shared memory: in registers the 8 values per thread
    // pushed this kernel past 128 registers (12-16 bytes of spills on sm_90).
    const int bCol = tid >> 3, bK = tid & 7;
    __shared__ int tapAt[GEMM_BN], tapRowCol[GEMM_BN];
    if (tid < GEMM_BN) {
        const int r = min(bn + tid, R - 1);
        const int ci = r / KK, t = r - ci * KK, kh = t / Kw, kw = t - kh * Kw;
        tapAt[tid] = ci * HW + (kh - pad) * W + (kw - pad);
        tapRowCol[tid] = (int)(((unsigned)(kh - pad) << 16) | ((unsigned)(kw - pad) & 0xffffu));
    }
    const unsigned bColOk = gemm_tile_mask(bn + bCol, R);
    __syncthreads();

    // Both operands are read along q with q = tid%8 of the k-tile (aK == bK), so one decode of q
    // per k-tile serves the thread's 4 copies of dy and its 4 of x. Offsets within a student are
    // 32-bit (its tensors are below 2^31 floats): this kernel is at the 128-register bound.
    auto issue = [&](int buf, int kLeft) {
        const int k = K - kLeft + aK;
        const bool in = k < K;
        int n = 0, p = 0, ho = 0, wo = 0;
        if (in) {
            const int q = q0 + k;
            n = q / P;
            p = q - n * P;
            ho = p / Wo;
            wo = p - ho * Wo;
        }
        const int dyAt = (n * Co + bm + aRow) * P + p;
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const bool ok = ((aRowOk >> e) & 1u) && in;
            cp_async_f32(&As[buf][aK][aRow + 32 * e], ok ? dy + dyAt + e * 32 * P : dy, ok);
        }
        const int xAt = n * Ci * HW;   // + (ho*W + wo)*stride + the tap: x[n][ci][ho*s+kh-p][wo*s+kw-p]
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int rc = tapRowCol[bCol + 32 * e];
            const int row = ho * stride + window_row(rc);
            const int col = wo * stride + window_col(rc);
            const bool ok = ((bColOk >> e) & 1u) && in && (unsigned)row < (unsigned)H && (unsigned)col < (unsigned)W;
            cp_async_f32(&Bs[buf][bK][bCol + 32 * e], ok ? x + xAt + tapAt[bCol + 32 * e] + (ho * W + wo) * stride : x, ok);
        }
    };
    float acc[8][8];
    gemm_tile_k_loop<PREC>(K, As, Bs, issue, acc);

    // C (Co, R) row-major, bounds-checked; vector stores where aligned.
    using Map = GemmTileMap<PREC>;
    const bool vec = gemm_tile_vec_ok<Map::VW>(dw, R);
#pragma unroll
    for (int i = 0; i < 8; ++i) {
        const int m = bm + Map::row(i);
        if (m >= Co) continue;
        float* cRow = dw + m * R;   // Co*R < 2^31
#pragma unroll
        for (int h = 0; h < Map::GROUPS; ++h) {
            const int c = bn + Map::col(h);
            gemm_tile_store<Map::VW>(cRow + c, &acc[i][h * Map::VW], c, R, vec, 0.0f);
        }
    }
}

// The entry points: each product at each precision (GemmPrecision in gemm_tile.cuh).
#define CONV_IGEMM_ENTRIES(SUFFIX, PREC)                                                                          \
    extern "C" __global__ void __launch_bounds__(GEMM_THREADS, 2)                                                 \
    conv_igemm_forward_##SUFFIX(const float* __restrict__ x, const float* __restrict__ w,                         \
                                const float* __restrict__ bias, float* __restrict__ y, int N, int Ci, int H,      \
                                int W, int Co, int Kh, int Kw, int Ho, int Wo, int stride, int pad,               \
                                long long xStride, long long wStride, long long yStride)                          \
    {                                                                                                             \
        conv_igemm_forward<PREC>(x, w, bias, y, N, Ci, H, W, Co, Kh, Kw, Ho, Wo, stride, pad, xStride, wStride,   \
                                 yStride);                                                                        \
    }                                                                                                             \
    extern "C" __global__ void __launch_bounds__(GEMM_THREADS, 2)                                                 \
    conv_igemm_data_grad_##SUFFIX(const float* __restrict__ dy, const float* __restrict__ w,                      \
                                  float* __restrict__ dx, int N, int Ci, int H, int W, int Co, int Kh, int Kw,    \
                                  int Ho, int Wo, int pad, long long dyStride, long long wStride,                 \
                                  long long dxStride)                                                             \
    {                                                                                                             \
        conv_igemm_data_grad<PREC>(dy, w, dx, N, Ci, H, W, Co, Kh, Kw, Ho, Wo, pad, dyStride, wStride, dxStride); \
    }                                                                                                             \
    extern "C" __global__ void __launch_bounds__(GEMM_THREADS, 2)                                                 \
    conv_igemm_weight_grad_##SUFFIX(const float* __restrict__ x, const float* __restrict__ dy,                    \
                                    float* __restrict__ dw, int N, int Ci, int H, int W, int Co, int Kh, int Kw,  \
                                    int Ho, int Wo, int stride, int pad, int kChunk, long long sliceStride,       \
                                    int splitBits, long long xStride, long long dyStride, long long dwStride)     \
    {                                                                                                             \
        conv_igemm_weight_grad<PREC>(x, dy, dw, N, Ci, H, W, Co, Kh, Kw, Ho, Wo, stride, pad, kChunk,             \
                                     sliceStride, splitBits, xStride, dyStride, dwStride);                        \
    }

CONV_IGEMM_ENTRIES(f32, GEMM_FP32)
CONV_IGEMM_ENTRIES(3xtf32, GEMM_3XTF32)
CONV_IGEMM_ENTRIES(tf32, GEMM_TF32)
