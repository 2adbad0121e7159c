// elementwise.cu - broadcast elementwise family (CPU reference: ElementwiseKernel).
//
// Entry points (float32, row-major, contiguous; out always has n elements):
//   unary_f32 (int op, const float* x, float* out, int n, Walk w)
//       out (n) = op(x broadcast to out); x is addressed through w.stride0.
//       op: 0 IDENTITY (broadcast copy), 1 NEG, 2 EXP, 3 LOG, 4 SQRT, 5 RSQRT, 6 RELU.
//   binary_f32(int op, const float* a, const float* b, float* out, int n, Walk w)
//       out (n) = op(a, b); a through w.stride0, b through w.stride1.
//       op: 0 ADD, 1 SUB, 2 MUL, 3 DIV, 4 RELU_GRAD (a where b > 0, else +0).
//       out may be a or b itself when that input has out's shape (each element is read
//       before it is written, by the same thread).
//   affine_f32(const float* x, float* out, int n, float scale, float shift)
//       out (n) = scale * x + shift; out may be x.
//
// Launch (all three): block 256, grid min(ceil(n / 256), 65535), at least 1; grid-stride
// loop, so any grid is correct and n = 0 writes nothing.
//
// Walk = Broadcast.plan(out, inputs): rank 1..6 merged dimensions, outermost first, product n;
// strides in elements, 0 along broadcast dimensions. Passed by value as 19 ints in field order.
// Unused entries (index >= rank) are never read.
//
// Why two paths: rank 1 covers same-shape ops (stride 1) and scalar broadcasts (stride 0)
// with one multiply per element; only genuinely broadcast walks pay the per-element index
// decomposition (one unsigned division per merged dimension but the outermost). The test is
// on kernel arguments, so the branch is uniform. The op is dispatched once, outside the loop,
// to a loop instantiated per op.
//
// Loads stay scalar: each thread touches one element per iteration, warps are fully
// coalesced, and the grid above leaves no thread idle in the common n <= 16.7M case.
// Measured on an H100 (16M floats): same-shape add ~2.6 TB/s; a (N,C,H,W) x (1,C,1,1)
// broadcast ~1.6 TB/s. Replacing the divisions by per-block multiply-high divisors (computed
// in shared memory) was tried and was slower (the per-block setup and barrier cost more
// than the divisions), so the plain divisions stay.
//
// Precision against the CPU (which rounds the double result once for EXP/LOG/SQRT/RSQRT):
// NEG, RELU, ADD, SUB, MUL, DIV, SQRT and RELU_GRAD are bit-identical (IEEE-rounded float ops,
// and double rounding of +,-,*,/,sqrt from float operands is innocuous); EXP is within 2 ulp
// (expf), LOG within 1 ulp (logf), RSQRT = 1.0f / sqrtf(x) within 1 ulp (two rounded steps:
// about 1.2e-7 relative). Do not build with -use_fast_math (it would swap in approximate
// division, sqrt and exp). affine uses one fmaf (single rounding of scale*x + shift with the
// float-rounded scale and shift the launcher passes), so it agrees with the CPU's double
// evaluation within 1 ulp plus the rounding of scale and shift to float.
// RELU follows Java's Math.max(x, 0f): NaN stays NaN, -0 becomes +0. RELU_GRAD follows the
// CPU's float32 bit mask: a passes exactly when b's bit pattern is a positive int (b > 0, or
// a +NaN b), otherwise +0.

struct Walk {
    int rank;
    int dims[6];
    int stride0[6];
    int stride1[6];
};

#define EW_BLOCK 256
#define EW_MAX_RANK 6

// Offsets of element i in input 0 (and input 1 when TWO) for a walk of rank >= 2.
// Loops are fully unrolled so every struct index is a compile-time constant (params stay in
// the constant bank instead of being copied to local memory).
template <bool TWO>
__device__ __forceinline__ void walk_offsets(const Walk& w, unsigned i, unsigned& o0, unsigned& o1) {
    unsigned off0 = 0, off1 = 0, rem = i;
#pragma unroll
    for (int d = EW_MAX_RANK - 1; d >= 1; --d) {
        if (d < w.rank) {
            unsigned dim = (unsigned)w.dims[d];
            unsigned q = rem / dim;
            unsigned c = rem - q * dim;
            off0 += c * (unsigned)w.stride0[d];
            if (TWO) off1 += c * (unsigned)w.stride1[d];
            rem = q;
        }
    }
    // The outermost coordinate is what is left: i < n guarantees it is < dims[0].
    off0 += rem * (unsigned)w.stride0[0];
    if (TWO) off1 += rem * (unsigned)w.stride1[0];
    o0 = off0;
    o1 = off1;
}

template <int OP>
__device__ __forceinline__ float unary_apply(float v) {
    if (OP == 0) return v;
    if (OP == 1) return -v;
    if (OP == 2) return expf(v);
    if (OP == 3) return logf(v);
    if (OP == 4) return sqrtf(v);
    if (OP == 5) return 1.0f / sqrtf(v);
    // RELU as Math.max(v, 0f): NaN propagates, -0 gives +0.
    return v > 0.0f ? v : (v != v ? v : 0.0f);
}

template <int OP>
__device__ __forceinline__ float binary_apply(float a, float b) {
    if (OP == 0) return a + b;
    if (OP == 1) return a - b;
    if (OP == 2) return a * b;
    if (OP == 3) return a / b;
    // RELU_GRAD: the CPU's mask is all ones exactly when b's bits are a positive int.
    return __float_as_int(b) > 0 ? a : 0.0f;
}

template <int OP>
__device__ __forceinline__ void unary_loop(const float* x, float* out, unsigned n, const Walk& w) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    const unsigned step = gridDim.x * blockDim.x;  // n + step < 2^32: no wrap
    if (w.rank == 1) {
        const unsigned s0 = (unsigned)w.stride0[0];
        for (; i < n; i += step) out[i] = unary_apply<OP>(x[i * s0]);
    } else {
        for (; i < n; i += step) {
            unsigned o0, o1;
            walk_offsets<false>(w, i, o0, o1);
            out[i] = unary_apply<OP>(x[o0]);
        }
    }
}

template <int OP>
__device__ __forceinline__ void binary_loop(const float* a, const float* b, float* out, unsigned n, const Walk& w) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    const unsigned step = gridDim.x * blockDim.x;
    if (w.rank == 1) {
        const unsigned s0 = (unsigned)w.stride0[0], s1 = (unsigned)w.stride1[0];
        for (; i < n; i += step) {
            float va = a[i * s0], vb = b[i * s1];
            out[i] = binary_apply<OP>(va, vb);
        }
    } else {
        for (; i < n; i += step) {
            unsigned o0, o1;
            walk_offsets<true>(w, i, o0, o1);
            float va = a[o0], vb = b[o1];
            out[i] = binary_apply<OP>(va, vb);
        }
    }
}

extern "C" __global__ void __launch_bounds__(EW_BLOCK)
unary_f32(int op, const float* x, float* out, int n, Walk w) {
    if (n <= 0) return;
    const unsigned un = (unsigned)n;
    switch (op) {
        case 0: unary_loop<0>(x, out, un, w); break;
        case 1: unary_loop<1>(x, out, un, w); break;
        case 2: unary_loop<2>(x, out, un, w); break;
        case 3: unary_loop<3>(x, out, un, w); break;
        case 4: unary_loop<4>(x, out, un, w); break;
        case 5: unary_loop<5>(x, out, un, w); break;
        case 6: unary_loop<6>(x, out, un, w); break;
        default: break;  // unknown op: the launcher validates; write nothing rather than guess
    }
}

extern "C" __global__ void __launch_bounds__(EW_BLOCK)
binary_f32(int op, const float* a, const float* b, float* out, int n, Walk w) {
    if (n <= 0) return;
    const unsigned un = (unsigned)n;
    switch (op) {
        case 0: binary_loop<0>(a, b, out, un, w); break;
        case 1: binary_loop<1>(a, b, out, un, w); break;
        case 2: binary_loop<2>(a, b, out, un, w); break;
        case 3: binary_loop<3>(a, b, out, un, w); break;
        case 4: binary_loop<4>(a, b, out, un, w); break;
        default: break;
    }
}

extern "C" __global__ void __launch_bounds__(EW_BLOCK)
affine_f32(const float* x, float* out, int n, float scale, float shift) {
    if (n <= 0) return;
    const unsigned un = (unsigned)n;
    const unsigned step = gridDim.x * blockDim.x;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < un; i += step) {
        out[i] = fmaf(scale, x[i], shift);
    }
}
