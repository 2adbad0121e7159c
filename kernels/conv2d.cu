// conv2d.cu — layout helpers that turn a 2-D convolution into im2col + GEMM (the GEMM is
// gemm.cu's). Convolution as in PyTorch (cross-correlation): x (N, Ci, H, W), w (Co, Ci, Kh, Kw),
// stride s and zero padding p on both axes, Ho = (H + 2p - Kh)/s + 1, Wo = (W + 2p - Kw)/s + 1.
// The Java side processes G images at a time; x / dx / y already point at the group's first
// image. All tensors float32, row-major (contiguous, no leading dimensions).
//
// Students (batched MKDT: S models, each with its own images and weights) are the grid's y
// dimension: block row s = blockIdx.y works on student s, whose tensors start at the base
// pointer plus s times that tensor's per-student stride (in elements, 64-bit). Every entry
// point takes these strides; the unbatched call is gridDim.y = 1 (strides unused, pass 0).
// Each student's work is exactly the unbatched kernel's on its own pointers, so the student
// index costs one multiply-add per pointer per thread and changes no arithmetic.
// The per-student temporaries (col, and the rearranged GEMM input/output) are S blocks one
// after another: student s's col (R, G*Ho*Wo) starts at col + s*colStride, so each block is
// one operand of a batched GEMM (gemm.cu, strides per student).
//
// The column matrix: col (R, Q) row-major with R = Ci*Kh*Kw, Q = G*Ho*Wo,
//   row    r = (ci*Kh + kh)*Kw + kw
//   column q = g*Ho*Wo + ho*Wo + wo
//   col[r][q] = x[g][ci][ho*s - p + kh][wo*s - p + kw], 0 where that lies in the padding.
//
// Entry points (all block (256, 1, 1), grid (gx, S, 1): grid-stride loops along x, so ANY
// gx >= 1 is correct; the gx below is the one the Java side must use; S = number of students
// in the launch, <= 65535):
//
//   im2col_f32(const float* x, float* col, int G, int Ci, int H, int W, int Kh, int Kw,
//              int Ho, int Wo, int stride, int pad, long long xStride, long long colStride)
//       per student: x (G, Ci, H, W) -> col (Ci*Kh*Kw, G*Ho*Wo)
//       work items per student: total = Ci * G*Ho*Wo (one per (ci, column); each writes its
//       Kh*Kw rows)
//       gx = min(ceil(total/256), 65535)
//
//   col2im_f32(const float* col, float* dx, int G, int Ci, int H, int W, int Kh, int Kw,
//              int Ho, int Wo, int stride, int pad, long long colStride, long long dxStride)
//       per student: col (Ci*Kh*Kw, G*Ho*Wo) -> dx (G, Ci, H, W), the adjoint of im2col; dx is
//       overwritten (its old contents are never read)
//       work items per student: total = G*Ci*H*W (one per dx element)
//       gx = min(ceil(total/256), 65535)
//
//   cgp_to_gcp_f32(const float* src, const float* bias, float* dst, int G, int C, int P,
//                  long long srcStride, long long biasStride, long long dstStride)
//       per student: src (C, G*P) -> dst (G, C, P),
//       dst[g][c][p] = src[c][g*P + p] + (bias ? bias[c] : 0); bias (C) may be NULL (0).
//       Used after the forward GEMM y = w · col (C = Co, P = Ho*Wo).
//       work items per student: total = G*C*P
//       gx = min(ceil(total/256), 65535)
//
//   gcp_to_cgp_f32(const float* src, float* dst, int G, int C, int P,
//                  long long srcStride, long long dstStride)
//       per student: src (G, C, P) -> dst (C, G*P), dst[c][g*P + p] = src[g][c][p]. Used on dy
//       before the gradient GEMMs.
//       work items per student: total = G*C*P
//       gx = min(ceil(total/256), 65535)
//
//   Do not launch when total == 0 (a zero grid is a launch error). The cap 65535 is not a
//   correctness limit (any grid works); it is simply plenty to fill an H100 (132 SMs x 8
//   blocks) and keeps the formula identical for every entry point. With S students the grid
//   has S times as many blocks, which only fills the GPU better: the students of a launch are
//   small (the per-student group G shrinks as S grows, Conv2dKernel.java).
//
// Size limits (per student): every tensor dimension and each of R = Ci*Kh*Kw, Q = G*Ho*Wo,
// G*Ci*H*W and G*C*P must be an int (< 2^31). The col matrix R*Q itself may exceed 2^31
// elements, and so may S times any of these: flat indices and offsets into col, and student
// offsets, are 64-bit. Work-item indices are 32-bit unsigned when total < 2^31
// (the common case, decided once per launch) and 64-bit otherwise, because the
// divisions that split a flat index are several times cheaper in 32 bits.
// No alignment assumptions: all accesses are scalar 4-byte.
//
// ptxas -v (nvcc 13.0, -O3): 0 bytes stack, 0 spill stores, 0 spill loads for all four;
// registers sm_90 / sm_80: im2col_f32 40 / 32, col2im_f32 38 / 34 (launch bound 256 x 6, see
// there), cgp_to_gcp_f32 30 / 24, gcp_to_cgp_f32 30 / 32. (Before the student dimension:
// 32 / 32, 30 / 30, 32 / 30, 30 / 32: the student's base pointers cost a few registers, and
// im2col and col2im now run 6 blocks of 256 per SM instead of 8.)
//
// Versions: one each. These are bandwidth kernels whose only design choices are the work
// decomposition and which side of the copy is coalesced; the choices and why:
//   im2col  — one work item per (ci, column q) rather than per col element: the index
//             decomposition (q -> g, ho, wo; ci) is paid once and amortised over Kh*Kw writes.
//             Consecutive threads take consecutive q, so each of the Kh*Kw writes is a fully
//             coalesced row segment of col; reads of x are contiguous along w for stride 1.
//   col2im  — a gather, not the usual scatter with atomicAdd: each dx element sums its own
//             contributions in a fixed (kh, kw) order, so the result is deterministic and dx can
//             be overwritten without a memset. For stride s only kh = (h+p) mod s, +s, +2s...
//             can hit (ho integral), so the loops start there and step by s (no per-tap modulo),
//             and ho = (h+p-kh)/s is walked down by 1 per step (no per-tap division). The taps
//             are additionally limited to 0 <= ho < Ho. Writes are coalesced (consecutive w);
//             reads of col are coalesced for stride 1.
//   cgp/gcp — a permutation of whole P-length runs; the flat index is taken over dst so writes
//             are coalesced, and reads are contiguous within each run of P.

#include <climits>

// Flat-index type selection: 32-bit unsigned when the number of work items is < 2^31 (then
// idx + gridDim.x*blockDim.x cannot wrap for any grid of <= 2^31 threads).
#define CONV_SMALL(total) ((total) <= (long long)INT_MAX)

// ---------------------------------------------------------------------------------------------
// im2col
// ---------------------------------------------------------------------------------------------

template <typename I>
__device__ __forceinline__ void im2col_body(const float* __restrict__ x, float* __restrict__ col,
                                            int G, int Ci, int H, int W, int Kh, int Kw,
                                            int Ho, int Wo, int stride, int pad)
{
    const I HoWo = (I)Ho * Wo;
    const I Q = (I)G * HoWo;                       // columns of col
    const I total = (I)Ci * Q;
    const long long rowPitch = (long long)Q;       // distance between consecutive col rows
    const int KK = Kh * Kw;

    for (I idx = (I)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (I)gridDim.x * blockDim.x) {
        const I ci = idx / Q;
        const I q = idx - ci * Q;
        const I g = q / HoWo;
        const I hw = q - g * HoWo;
        const int ho = (int)(hw / Wo);
        const int wo = (int)(hw - (I)ho * Wo);
        const int h0 = ho * stride - pad;
        const int w0 = wo * stride - pad;

        const float* xc = x + ((long long)g * Ci + ci) * H * W;   // image g, channel ci
        float* out = col + (long long)ci * KK * rowPitch + q;      // row (ci, 0, 0), column q
        for (int kh = 0; kh < Kh; ++kh) {
            const int h = h0 + kh;
            const bool hOk = (unsigned)h < (unsigned)H;
            const float* xr = xc + (long long)h * W;
            for (int kw = 0; kw < Kw; ++kw) {
                const int w = w0 + kw;
                *out = (hOk && (unsigned)w < (unsigned)W) ? __ldg(xr + w) : 0.0f;
                out += rowPitch;
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(256)
im2col_f32(const float* __restrict__ x, float* __restrict__ col, int G, int Ci, int H, int W,
           int Kh, int Kw, int Ho, int Wo, int stride, int pad, long long xStride,
           long long colStride)
{
    x += blockIdx.y * xStride;        // student s = blockIdx.y
    col += blockIdx.y * colStride;
    const long long total = (long long)Ci * G * Ho * Wo;
    if (CONV_SMALL(total))
        im2col_body<unsigned>(x, col, G, Ci, H, W, Kh, Kw, Ho, Wo, stride, pad);
    else
        im2col_body<unsigned long long>(x, col, G, Ci, H, W, Kh, Kw, Ho, Wo, stride, pad);
}

// ---------------------------------------------------------------------------------------------
// col2im (adjoint of im2col, gather form)
// ---------------------------------------------------------------------------------------------

template <typename I>
__device__ __forceinline__ void col2im_body(const float* __restrict__ col, float* __restrict__ dx,
                                            int G, int Ci, int H, int W, int Kh, int Kw,
                                            int Ho, int Wo, int stride, int pad)
{
    const I HW = (I)H * W;
    const I total = (I)G * Ci * HW;
    const long long HoWo = (long long)Ho * Wo;
    const long long Q = (long long)G * HoWo;

    for (I idx = (I)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (I)gridDim.x * blockDim.x) {
        const I gc = idx / HW;                     // g*Ci + ci
        const I hw = idx - gc * HW;
        const int h = (int)(hw / W);
        const int w = (int)(hw - (I)h * W);
        const int g = (int)(gc / Ci);
        const int ci = (int)(gc - (I)g * Ci);

        // Taps along h: kh = kh0 + j*s hits output row ho = ho0 - j. Skip the j for which
        // ho >= Ho; stop when kh >= Kh or ho < 0.
        const int hp = h + pad;
        const int wp = w + pad;
        int khStart = hp % stride, hoStart = hp / stride;
        int kwStart = wp % stride, woStart = wp / stride;
        if (hoStart >= Ho) {
            const int j = hoStart - (Ho - 1);
            khStart += j * stride;
            hoStart -= j;
        }
        if (woStart >= Wo) {
            const int j = woStart - (Wo - 1);
            kwStart += j * stride;
            woStart -= j;
        }

        // Column of (g, ho, wo) and row of (ci, kh, kw), both in 64 bits: R*Q may exceed 2^31.
        const float* cg = col + (long long)g * HoWo;
        float acc = 0.0f;
        for (int kh = khStart, ho = hoStart; kh < Kh && ho >= 0; kh += stride, --ho) {
            const float* cr = cg + ((long long)(ci * Kh + kh) * Kw) * Q + (long long)ho * Wo;
            for (int kw = kwStart, wo = woStart; kw < Kw && wo >= 0; kw += stride, --wo)
                acc += __ldg(cr + (long long)kw * Q + wo);
        }
        dx[idx] = acc;
    }
}

// Minimum 6 blocks per SM: with the student pointers live, ptxas' own choice for sm_90 is 32
// registers (8 blocks) with a 16-byte spill; a bound of 6 blocks lets it use 38 with none.
extern "C" __global__ void __launch_bounds__(256, 6)
col2im_f32(const float* __restrict__ col, float* __restrict__ dx, int G, int Ci, int H, int W,
           int Kh, int Kw, int Ho, int Wo, int stride, int pad, long long colStride,
           long long dxStride)
{
    col += blockIdx.y * colStride;    // student s = blockIdx.y
    dx += blockIdx.y * dxStride;
    const long long total = (long long)G * Ci * H * W;
    if (CONV_SMALL(total))
        col2im_body<unsigned>(col, dx, G, Ci, H, W, Kh, Kw, Ho, Wo, stride, pad);
    else
        col2im_body<unsigned long long>(col, dx, G, Ci, H, W, Kh, Kw, Ho, Wo, stride, pad);
}

// ---------------------------------------------------------------------------------------------
// (C, G*P) <-> (G, C, P)
// ---------------------------------------------------------------------------------------------

template <typename I>
__device__ __forceinline__ void cgp_to_gcp_body(const float* __restrict__ src,
                                                const float* __restrict__ bias,
                                                float* __restrict__ dst, int G, int C, int P)
{
    const I CP = (I)C * P;
    const I total = (I)G * CP;
    const long long GP = (long long)G * P;
    for (I idx = (I)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (I)gridDim.x * blockDim.x) {
        const I g = idx / CP;
        const I cp = idx - g * CP;
        const I c = cp / P;
        const I p = cp - c * P;
        float v = __ldg(src + (long long)c * GP + (long long)g * P + p);
        if (bias != nullptr) v += __ldg(bias + c);
        dst[idx] = v;
    }
}

extern "C" __global__ void __launch_bounds__(256)
cgp_to_gcp_f32(const float* __restrict__ src, const float* __restrict__ bias,
               float* __restrict__ dst, int G, int C, int P, long long srcStride,
               long long biasStride, long long dstStride)
{
    src += blockIdx.y * srcStride;    // student s = blockIdx.y
    if (bias != nullptr) bias += blockIdx.y * biasStride;
    dst += blockIdx.y * dstStride;
    const long long total = (long long)G * C * P;
    if (CONV_SMALL(total))
        cgp_to_gcp_body<unsigned>(src, bias, dst, G, C, P);
    else
        cgp_to_gcp_body<unsigned long long>(src, bias, dst, G, C, P);
}

template <typename I>
__device__ __forceinline__ void gcp_to_cgp_body(const float* __restrict__ src,
                                                float* __restrict__ dst, int G, int C, int P)
{
    const I GP = (I)G * P;
    const I total = (I)C * GP;
    for (I idx = (I)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (I)gridDim.x * blockDim.x) {
        const I c = idx / GP;
        const I gp = idx - c * GP;
        const I g = gp / P;
        const I p = gp - g * P;
        dst[idx] = __ldg(src + ((long long)g * C + c) * P + p);
    }
}

extern "C" __global__ void __launch_bounds__(256)
gcp_to_cgp_f32(const float* __restrict__ src, float* __restrict__ dst, int G, int C, int P,
               long long srcStride, long long dstStride)
{
    src += blockIdx.y * srcStride;    // student s = blockIdx.y
    dst += blockIdx.y * dstStride;
    const long long total = (long long)G * C * P;
    if (CONV_SMALL(total))
        gcp_to_cgp_body<unsigned>(src, dst, G, C, P);
    else
        gcp_to_cgp_body<unsigned long long>(src, dst, G, C, P);
}
