// adjoint.cu - the reverse sweep's fused update of trajectory matching, in place
// (CPU reference: AdjointKernel).
//
// Entry point (a and h flat vectors of n elements, two distinct buffers; s and dAlpha one
// float each, or both NULL):
//   adjoint_step_f32(float* a, const float* h, int n, float alpha, const float* s, float* dAlpha)
//       a[i] -= alpha * h[i] for every i; and, when s != NULL, dAlpha[0] -= s[0], done once by
//       thread 0 of block 0. The learning rate's gradient thus stays on the device and costs
//       neither a launch of its own nor a round trip to the host. s and dAlpha may be any
//       device floats (even the same one), but not inside a or h.
//
// Launch: block 256, grid min(ceil(n / 1024), 65535), at least 1 (each thread handles four
// elements per iteration on the vector path; a grid of 1 is still launched when n == 0 and
// s != NULL, for the scalar); grid-stride loops, so any grid is correct.
//
// Why two paths (as in sgd.cu): when a and h are both 16-byte aligned (tested at run time on
// the pointer values: views into pooled storage can start at any float) the elements move as
// float4, four times fewer memory instructions for the three streams (2 loads, 1 store); the
// 0..3 trailing elements are done by the first threads of the grid. Otherwise every element
// is scalar. The arithmetic per element is the same on both paths, so the result does not
// depend on alignment.
//
// Precision: the CPU evaluates a - alpha * h in double from the double alpha and rounds once;
// here alpha arrives rounded to float and each element is one fmaf(-alpha, h, a) (one
// rounding of the exact a - alpha_f * h). The two agree within float32 rounding (a few ulp
// of a, relative to |alpha * h|), not bit for bit, like sgd_step_f32. dAlpha[0] - s[0] is a
// float subtraction, bit-identical to the CPU's double subtraction rounded to float (the
// exact difference of two floats rounds the same way through double).
//
// ptxas -v (nvcc 13.0, -O3): 0 bytes stack, 0 spill stores, 0 spill loads;
// registers sm_90 / sm_80: adjoint_step_f32 23 / 18.

#define ADJ_BLOCK 256

extern "C" __global__ void __launch_bounds__(ADJ_BLOCK)
adjoint_step_f32(float* __restrict__ a, const float* __restrict__ h, int n, float alpha,
                 const float* s, float* dAlpha) {
    const unsigned gid = blockIdx.x * blockDim.x + threadIdx.x;
    const unsigned step = gridDim.x * blockDim.x;
    if (s != nullptr && gid == 0) dAlpha[0] = dAlpha[0] - s[0];
    if (n <= 0) return;
    const unsigned un = (unsigned)n;
    const float na = -alpha;
    unsigned i = gid;
    if ((((unsigned long long)a | (unsigned long long)h) & 15ull) == 0) {
        const unsigned nv = un >> 2;
        float4* a4 = reinterpret_cast<float4*>(a);
        const float4* h4 = reinterpret_cast<const float4*>(h);
        for (unsigned v = gid; v < nv; v += step) {
            float4 x = a4[v];
            const float4 g = h4[v];
            x.x = fmaf(na, g.x, x.x);
            x.y = fmaf(na, g.y, x.y);
            x.z = fmaf(na, g.z, x.z);
            x.w = fmaf(na, g.w, x.w);
            a4[v] = x;
        }
        i = 4u * nv + gid;  // trailing 0..3 elements
    }
    for (; i < un; i += step) a[i] = fmaf(na, h[i], a[i]);
}
