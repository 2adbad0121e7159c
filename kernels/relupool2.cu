// relupool2.cu - ReLU fused with 2x2 average pooling, stride 2, and its adjoint in u
// (CPU reference: ReluPool2Kernel). The student's layer ends in relu then avgPool2; fused, the
// full-size ReLU output (and, backward, the full-size pooled gradient) is never written.
//
// Entry points (planes = N*C; H and W even; Ho = H/2, Wo = W/2):
//   relupool2_forward_f32 (const float* u, const float* z, float* y, int planes, int H, int W)
//       y (planes, Ho, Wo) = mean of each 2x2 window of u * [z > 0], u and z (planes, H, W).
//       u and z may be the same buffer: pool(relu(z)) is relupool2_forward(z, z).
//   relupool2_backward_f32(const float* dy, const float* z, float* dx, int planes, int H, int W)
//       dx (planes, H, W) = [z > 0] * dy (planes, Ho, Wo) / 4 spread over each window
//       (overwrites dx; every element of dx is written exactly once).
//   y / dx must not overlap the inputs.
//
// Launch (both): block 256, grid min(ceil(planes * Ho * Wo / 256), 65535), at least 1;
// grid-stride loop over the Ho*Wo windows of all planes (one thread per window), so any grid
// is correct and zero windows write nothing. The same decomposition as avgpool2.cu, for the
// same reasons: a warp reads two contiguous 256-byte row segments of each input and writes
// one 128-byte segment of y (or two of dx), and the window index needs one division.
//
// Arithmetic: bit-identical to the CPU, and to avgpool2.cu after a separate ReLU. The mask is
// the comparison z > 0 (false for NaN, as in Java); a masked element contributes +0.0 to the
// forward sum and is written as +0.0f backward. The forward sums the four (masked) floats left
// to right in double ((a + b) + c) + d, multiplies by 0.25 and rounds once to float, exactly
// like ReluPool2Kernel; nothing here can contract into an FMA (no product feeds a sum). The
// backward's 0.25f * dy is exact in float (a power of two), the same value as the CPU's
// double product rounded to float.
//
// Both pointers of the forward inputs are const __restrict__: they may alias each other
// because neither is written (restrict only forbids a write through one being seen through
// the other).
//
// ptxas -v (nvcc 13.0, -O3): 0 bytes stack, 0 spill stores, 0 spill loads for both;
// registers sm_90 / sm_80: relupool2_forward_f32 32 / 24, relupool2_backward_f32 32 / 24.

#define RELUPOOL_BLOCK 256

__device__ __forceinline__ double relu_masked(const float* __restrict__ u, const float* __restrict__ z, unsigned i) {
    return z[i] > 0.0f ? (double)u[i] : 0.0;
}

extern "C" __global__ void __launch_bounds__(RELUPOOL_BLOCK)
relupool2_forward_f32(const float* __restrict__ u, const float* __restrict__ z, float* __restrict__ y,
                      int planes, int H, int W) {
    if (planes <= 0 || H < 2 || W < 2) return;
    const unsigned wo = (unsigned)W >> 1, ho = (unsigned)H >> 1;
    const unsigned total = (unsigned)planes * ho * wo;
    const unsigned w2 = 2u * wo;  // == W
    const unsigned step = gridDim.x * blockDim.x;
    for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        const unsigned q = e / wo, c = e - q * wo;
        const unsigned top = q * 2u * w2 + 2u * c, bot = top + w2;
        const double s = ((relu_masked(u, z, top) + relu_masked(u, z, top + 1)) + relu_masked(u, z, bot))
                + relu_masked(u, z, bot + 1);
        y[e] = (float)(0.25 * s);
    }
}

extern "C" __global__ void __launch_bounds__(RELUPOOL_BLOCK)
relupool2_backward_f32(const float* __restrict__ dy, const float* __restrict__ z, float* __restrict__ dx,
                       int planes, int H, int W) {
    if (planes <= 0 || H < 2 || W < 2) return;
    const unsigned wo = (unsigned)W >> 1, ho = (unsigned)H >> 1;
    const unsigned total = (unsigned)planes * ho * wo;
    const unsigned w2 = 2u * wo;
    const unsigned step = gridDim.x * blockDim.x;
    for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        const unsigned q = e / wo, c = e - q * wo;
        const unsigned top = q * 2u * w2 + 2u * c, bot = top + w2;
        const float g = 0.25f * dy[e];
        dx[top] = z[top] > 0.0f ? g : 0.0f;
        dx[top + 1] = z[top + 1] > 0.0f ? g : 0.0f;
        dx[bot] = z[bot] > 0.0f ? g : 0.0f;
        dx[bot + 1] = z[bot + 1] > 0.0f ? g : 0.0f;
    }
}
