// relupool2.cu - per-plane affine + ReLU fused with 2x2 average pooling, stride 2, and its
// adjoint (CPU reference: ReluPool2Kernel). The student's block ends in instance norm's scale
// and shift, ReLU, then avgPool2; fused, neither the full-size affine output nor the full-size
// ReLU output is ever written (forward), and the mask is recomputed from x (backward).
//
// Entry points (planes = N*C; H and W even; Ho = H/2, Wo = W/2; z = x*scale[p] + shift[p] for
// plane p, or z = x when scale is NULL (shift is then ignored)):
//   relupool2_forward_f32 (const float* u, const float* x, const float* scale, const float* shift,
//                          float* y, int planes, int H, int W)
//       y (planes, Ho, Wo) = mean of each 2x2 window of v * [z > 0], v = u (planes, H, W), or
//       v = z when u is NULL: pool(relu(x*scale + shift)) is relupool2_forward(NULL, x, ...).
//   relupool2_backward_f32(const float* dy, const float* x, const float* scale, const float* shift,
//                          float* dx, int planes, int H, int W)
//       dx (planes, H, W) = [z > 0] * dy (planes, Ho, Wo) / 4 spread over each window
//       (overwrites dx; every element of dx is written exactly once).
//   relupool2_backward_affine_f32(const float* dy, const float* x, const float* scale, const float* shift,
//                          float* dx, float* dscale, float* dshift, int planes, int H, int W)
//       the whole first-order backward of pool(relu(x*scale + shift)) in one pass: with
//       r = [z > 0] * dy / 4 spread over each window, dx = r * scale[p], dscale[p] = sum of
//       r * x and dshift[p] = sum of r over the plane (scale and shift required). What the
//       backward, two reductions, a product and a scaling did in six full-size passes (and a
//       memset), it does reading dy and x once and writing dx once.
//   y / dx must not overlap the inputs; scale and shift hold one float per plane.
//
// Launch: relupool2_backward_affine_f32: block exactly 256, grid = planes (one block per plane,
// as instancenorm.cu: the block size fixes the summation order). The other two: block 256, grid min(ceil(planes * Ho * Wo / 256), 65535), at least 1;
// grid-stride loop over the Ho*Wo windows of all planes (one thread per window), so any grid
// is correct and zero windows write nothing. The same decomposition as avgpool2.cu, for the
// same reasons: a warp reads two contiguous 256-byte row segments of each input and writes
// one 128-byte segment of y (or two of dx); the plane of a window costs one more division.
//
// Arithmetic: bit-identical to the CPU, and to the separate mul, add, relu and avgpool2
// kernels. z is __fadd_rn(__fmul_rn(x, scale), shift): two roundings, as the two elementwise
// ops round, and never contracted into an FMA (which would round once and differ). The mask is
// z > 0 (false for NaN, as in Java); a masked element contributes +0.0 to the forward sum and
// is written as +0.0f backward. The forward sums the four (masked) floats left to right in
// double ((a + b) + c) + d, multiplies by 0.25 and rounds once to float, exactly like
// ReluPool2Kernel. The backward's 0.25f * dy rounds once, as the CPU's double product rounded
// to float does (exact unless dy is subnormal; no flush-to-zero either side).
//
// The fused backward's dx is r * scale rounded once (__fmul_rn), the bits of the separate mul;
// its sums add each thread's terms in window order in float (r * x rounded like the mul op,
// then added), then block_sum's fixed tree: deterministic, within float rounding of the CPU's
// (which sums in 16 float chains, then in double), not bit-identical to it.
//
// ptxas -v (nvcc 13.0, -O3): 0 bytes stack, 0 spill stores, 0 spill loads for all; registers
// sm_90 / sm_80: relupool2_forward_f32 31 / 24, relupool2_backward_f32 32 / 32,
// relupool2_backward_affine_f32 32 / 32 (264 bytes shared).

#include "block_sum.cuh"

#define RELUPOOL_BLOCK 256

// z of element i of plane p.
__device__ __forceinline__ float affine_z(const float* __restrict__ x, const float* __restrict__ scale,
                                          const float* __restrict__ shift, unsigned i, unsigned p) {
    const float xi = x[i];
    return scale == nullptr ? xi : __fadd_rn(__fmul_rn(xi, __ldg(scale + p)), __ldg(shift + p));
}

__device__ __forceinline__ double relu_masked(const float* __restrict__ u, const float* __restrict__ x,
                                              const float* __restrict__ scale, const float* __restrict__ shift,
                                              unsigned i, unsigned p) {
    const float z = affine_z(x, scale, shift, i, p);
    return z > 0.0f ? (double)(u == nullptr ? z : u[i]) : 0.0;
}

extern "C" __global__ void __launch_bounds__(RELUPOOL_BLOCK)
relupool2_forward_f32(const float* __restrict__ u, const float* __restrict__ x, const float* __restrict__ scale,
                      const float* __restrict__ shift, float* __restrict__ y, int planes, int H, int W) {
    if (planes <= 0 || H < 2 || W < 2) return;
    const unsigned wo = (unsigned)W >> 1, ho = (unsigned)H >> 1;
    const unsigned total = (unsigned)planes * ho * wo;
    const unsigned w2 = 2u * wo;  // == W
    const unsigned step = gridDim.x * blockDim.x;
    for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        const unsigned q = e / wo, c = e - q * wo;     // q = plane * ho + window row
        const unsigned p = q / ho;
        const unsigned top = q * 2u * w2 + 2u * c, bot = top + w2;
        const double s = ((relu_masked(u, x, scale, shift, top, p) + relu_masked(u, x, scale, shift, top + 1, p))
                + relu_masked(u, x, scale, shift, bot, p)) + relu_masked(u, x, scale, shift, bot + 1, p);
        y[e] = (float)(0.25 * s);
    }
}

extern "C" __global__ void __launch_bounds__(RELUPOOL_BLOCK)
relupool2_backward_f32(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ scale,
                       const float* __restrict__ shift, float* __restrict__ dx, int planes, int H, int W) {
    if (planes <= 0 || H < 2 || W < 2) return;
    const unsigned wo = (unsigned)W >> 1, ho = (unsigned)H >> 1;
    const unsigned total = (unsigned)planes * ho * wo;
    const unsigned w2 = 2u * wo;
    const unsigned step = gridDim.x * blockDim.x;
    for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        const unsigned q = e / wo, c = e - q * wo;
        const unsigned p = q / ho;
        const unsigned top = q * 2u * w2 + 2u * c, bot = top + w2;
        const float g = 0.25f * dy[e];
        dx[top] = affine_z(x, scale, shift, top, p) > 0.0f ? g : 0.0f;
        dx[top + 1] = affine_z(x, scale, shift, top + 1, p) > 0.0f ? g : 0.0f;
        dx[bot] = affine_z(x, scale, shift, bot, p) > 0.0f ? g : 0.0f;
        dx[bot + 1] = affine_z(x, scale, shift, bot + 1, p) > 0.0f ? g : 0.0f;
    }
}

extern "C" __global__ void __launch_bounds__(RELUPOOL_BLOCK)
relupool2_backward_affine_f32(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ scale,
                              const float* __restrict__ shift, float* __restrict__ dx, float* __restrict__ dscale,
                              float* __restrict__ dshift, int planes, int H, int W) {
    if ((int)blockIdx.x >= planes || H < 2 || W < 2) return;
    const unsigned p = blockIdx.x, wo = (unsigned)W >> 1, ho = (unsigned)H >> 1;
    const unsigned windows = ho * wo, w2 = 2u * wo;
    const float sc = __ldg(scale + p), sh = __ldg(shift + p);
    const float* dyp = dy + (size_t)p * windows;
    const float* xp = x + (size_t)p * 4u * windows;
    float* dxp = dx + (size_t)p * 4u * windows;
    float s[2] = {0.0f, 0.0f};  // sum of r * x, sum of r
    for (unsigned e = threadIdx.x; e < windows; e += blockDim.x) {
        const unsigned r = e / wo, c = e - r * wo;
        const unsigned top = r * 2u * w2 + 2u * c;
        const unsigned at[4] = {top, top + 1, top + w2, top + w2 + 1};
        const float g = 0.25f * dyp[e];
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const float xi = xp[at[k]];
            const float ri = __fadd_rn(__fmul_rn(xi, sc), sh) > 0.0f ? g : 0.0f;
            dxp[at[k]] = __fmul_rn(ri, sc);
            s[0] = __fadd_rn(s[0], __fmul_rn(ri, xi));
            s[1] = __fadd_rn(s[1], ri);
        }
    }
    block_sum<2>(s);
    if (threadIdx.x == 0) {
        dscale[p] = s[0];
        dshift[p] = s[1];
    }
}
