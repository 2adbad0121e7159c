// avgpool2.cu - 2x2 average pooling, stride 2, and its adjoint (CPU reference: AvgPool2Kernel).
//
// Entry points (planes = N*C; H and W even; Ho = H/2, Wo = W/2):
//   avgpool2_forward_f32 (const float* x, float* y, int planes, int H, int W)
//       y (planes, Ho, Wo) = mean of each 2x2 window of x (planes, H, W).
//   avgpool2_backward_f32(const float* dy, float* dx, int planes, int H, int W)
//       dx (planes, H, W) = dy (planes, Ho, Wo) / 4 written to all four window cells
//       (overwrites dx; every element of dx is written exactly once).
//
// Launch (both): block 256, grid min(ceil(planes * Ho * Wo / 256), 65535), at least 1;
// grid-stride loop over the Ho*Wo outputs of all planes (one thread per window), so any grid
// is correct and zero windows write nothing.
//
// Why one thread per window: a warp reads two contiguous 256-byte row segments of x and
// writes one 128-byte segment of y (fully coalesced), and the flat window index needs a
// single division: window e = q * Wo + c with q = plane * Ho + row, whose top-left cell is
// x[q * 2W + 2c] because H * W = 2 * Ho * W.
//
// Arithmetic: bit-identical to the CPU. The forward sums the four floats left to right in
// double ((a + b) + c) + d, multiplies by 0.25 and rounds once to float, exactly like
// AvgPool2Kernel (four double operations per output are negligible next to the 20 bytes of
// memory traffic, even on GPUs with slow FP64). The backward's 0.25f * dy is exact in float
// (a power of two), the same value as the CPU's double product rounded to float.

#define POOL_BLOCK 256

extern "C" __global__ void __launch_bounds__(POOL_BLOCK)
avgpool2_forward_f32(const float* __restrict__ x, float* __restrict__ y, int planes, int H, int W) {
    if (planes <= 0 || H < 2 || W < 2) return;
    const unsigned wo = (unsigned)W >> 1, ho = (unsigned)H >> 1;
    const unsigned total = (unsigned)planes * ho * wo;
    const unsigned w2 = 2u * wo;  // == W
    const unsigned step = gridDim.x * blockDim.x;
    for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        const unsigned q = e / wo, c = e - q * wo;
        const unsigned top = q * 2u * w2 + 2u * c, bot = top + w2;
        const float a = x[top], b = x[top + 1], cc = x[bot], d = x[bot + 1];
        const double s = (((double)a + (double)b) + (double)cc) + (double)d;
        y[e] = (float)(0.25 * s);
    }
}

extern "C" __global__ void __launch_bounds__(POOL_BLOCK)
avgpool2_backward_f32(const float* __restrict__ dy, float* __restrict__ dx, int planes, int H, int W) {
    if (planes <= 0 || H < 2 || W < 2) return;
    const unsigned wo = (unsigned)W >> 1, ho = (unsigned)H >> 1;
    const unsigned total = (unsigned)planes * ho * wo;
    const unsigned w2 = 2u * wo;
    const unsigned step = gridDim.x * blockDim.x;
    for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        const unsigned q = e / wo, c = e - q * wo;
        const unsigned top = q * 2u * w2 + 2u * c, bot = top + w2;
        const float g = 0.25f * dy[e];
        dx[top] = g;
        dx[top + 1] = g;
        dx[bot] = g;
        dx[bot + 1] = g;
    }
}
