// reduce.cu - sum / max over a set of axes (CPU reference: ReduceKernel).
//
// Entry point:
//   reduce_f32(int kind, const float* x, float* out, int numOut, int redLen, int chunks, ReduceWalk w)
//       kind 0 = sum (identity 0), 1 = max (identity -inf).
//       Block b (0 <= b < numOut * chunks) handles output o = b / chunks and chunk c = b % chunks,
//       i.e. reduced indices [c*L, min((c+1)*L, redLen)) with L = ceil(redLen / chunks), and
//       writes out[b]. out has numOut * chunks elements: with chunks == 1 it is the result
//       (numOut); with chunks > 1 it is a (numOut, chunks) matrix of partials that a second
//       launch reduces, e.g. kind as before, x = partials, numOut, redLen = chunks, chunks = 1,
//       w = { keptRank 1, keptDims {numOut}, keptStrides {chunks}, redRank 1, redDims {chunks},
//       redStrides {1} }. A chunk whose range is empty (chunks > redLen) writes the identity.
//
//   sum_slices_f32(const float* partials, float* out, int slices, int len)
//       out[i] = partials[0*len + i] + partials[1*len + i] + ... in slice order: the second pass
//       of a split-K product (gemm.cu) or of many partial weight gradients. One thread per
//       output, consecutive threads on consecutive addresses (coalesced for every slice), where
//       reduce_f32's one block per output would launch a block for each of ~10^5 outputs.
//       Block 256, grid min(ceil(len / 256), 65535), grid-stride.
//
// ReduceWalk (26 ints, field order): output o is decomposed over keptDims (outermost first,
// keptRank 0..6; 0 = a single output) into a base offset sum(coord * keptStrides); the
// reduced index k (0..redLen-1) is decomposed over redDims (redRank 1..6, product redLen)
// into sum(coord * redStrides). Strides are in elements of x.
//
// Launch: block exactly 256 (the reduction tree is written for it; it sets the summation
// order), grid numOut * chunks (1-D, the caller keeps it <= 2^31 - 1). No shared memory
// argument (static 32 floats).
//
// Why this shape: one block per (output, chunk) keeps the order of additions a function of
// the launch configuration only, so results are bitwise reproducible (no atomics). Thread t
// of the block accumulates indices start+t, start+t+256, ... in that order in a float
// register, four loads issued ahead of the four dependent adds (same order as one at a time,
// more loads in flight); then a fixed warp-shuffle tree (offsets 16..1) and a fixed tree over
// the 8 warp results. For redRank >= 2 each thread decomposes its first index once and then
// advances its coordinates by 256 with carries (no divisions in the loop).
//
// Precision: the CPU accumulates in double; this kernel accumulates in float with ~256-way
// pairwise splitting, so a sum of n terms agrees within about (n/256 + 8) * 2^-24 * sum|x|
// (typically far better). Max is exact. Max propagates NaN like Java's Math.max.
// Performance: when the innermost dimension is kept (e.g. a column sum), neighbouring
// blocks read neighbouring addresses, so coalescing happens in L2 rather than in the warp
// (H100, 4096x4096: row sums ~2.5 TB/s, column sums ~0.5 TB/s). Use chunks > 1 when numOut
// is small (below ~1000 blocks the GPU is not full): e.g. a full sum of 16M floats with
// chunks 1024 reads at ~2.5 TB/s.

struct ReduceWalk {
    int keptRank;
    int keptDims[6];
    int keptStrides[6];
    int redRank;
    int redDims[6];
    int redStrides[6];
};

#define RED_BLOCK 256
#define RED_MAX_RANK 6

template <int KIND>
__device__ __forceinline__ float red_identity() {
    return KIND == 0 ? 0.0f : __int_as_float(0xff800000);  // -inf
}

template <int KIND>
__device__ __forceinline__ float red_combine(float s, float v) {
    if (KIND == 0) return s + v;
    // Math.max semantics: a NaN on either side wins (fmaxf would drop it).
    return (v > s || v != v) ? v : s;
}

// Accumulates x[base + off(k)] for k = k0, k0 + S, ... < hi, S = blockDim.x, in k order.
template <int KIND>
__device__ __forceinline__ float thread_accumulate(const float* __restrict__ x, unsigned base,
                                                   unsigned k0, unsigned hi, const ReduceWalk& w) {
    float s = red_identity<KIND>();
    if (k0 >= hi) return s;
    const unsigned S = blockDim.x;
    if (w.redRank == 1) {
        const unsigned st = (unsigned)w.redStrides[0];
        const float* p = x + base;
        unsigned k = k0;
        for (; k + 3 * S < hi; k += 4 * S) {
            float v0 = p[k * st], v1 = p[(k + S) * st], v2 = p[(k + 2 * S) * st], v3 = p[(k + 3 * S) * st];
            s = red_combine<KIND>(s, v0);
            s = red_combine<KIND>(s, v1);
            s = red_combine<KIND>(s, v2);
            s = red_combine<KIND>(s, v3);
        }
        for (; k < hi; k += S) s = red_combine<KIND>(s, p[k * st]);
        return s;
    }
    // General walk: coordinates of k0, and the step S, decomposed once over redDims.
    unsigned coord[RED_MAX_RANK], step[RED_MAX_RANK];
    unsigned off = 0, rk = k0, rs = S;
#pragma unroll
    for (int d = RED_MAX_RANK - 1; d >= 1; --d) {
        coord[d] = 0;
        step[d] = 0;
        if (d < w.redRank) {
            const unsigned dim = (unsigned)w.redDims[d];
            unsigned q = rk / dim;
            coord[d] = rk - q * dim;
            rk = q;
            q = rs / dim;
            step[d] = rs - q * dim;
            rs = q;
            off += coord[d] * (unsigned)w.redStrides[d];
        }
    }
    coord[0] = rk;  // outermost never wraps (k < redLen)
    step[0] = rs;
    off += rk * (unsigned)w.redStrides[0];
    const float* p = x + base;
    for (unsigned k = k0; k < hi; k += S) {
        s = red_combine<KIND>(s, p[off]);
        // off(k + S): add step digit by digit from the innermost, each digit < dim, so one
        // conditional subtraction per digit handles the carry.
        unsigned carry = 0;
#pragma unroll
        for (int d = RED_MAX_RANK - 1; d >= 1; --d) {
            if (d < w.redRank) {
                const unsigned dim = (unsigned)w.redDims[d];
                unsigned c = coord[d] + step[d] + carry;
                unsigned delta = step[d] + carry;  // coordinate change, before wrap
                carry = c >= dim ? 1u : 0u;
                if (carry) {
                    c -= dim;
                    delta -= dim;  // modular arithmetic: a negative change wraps correctly
                }
                coord[d] = c;
                off += delta * (unsigned)w.redStrides[d];
            }
        }
        off += (step[0] + carry) * (unsigned)w.redStrides[0];
    }
    return s;
}

// Fixed-order block reduction; the result is valid in thread 0.
template <int KIND>
__device__ __forceinline__ float block_reduce(float v) {
    __shared__ float warpVals[32];
    const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    const unsigned nw = blockDim.x >> 5;
#pragma unroll
    for (int o = 16; o >= 1; o >>= 1) v = red_combine<KIND>(v, __shfl_down_sync(0xffffffffu, v, o));
    if (lane == 0) warpVals[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < nw ? warpVals[lane] : red_identity<KIND>();
#pragma unroll
        for (int o = 16; o >= 1; o >>= 1) v = red_combine<KIND>(v, __shfl_down_sync(0xffffffffu, v, o));
    }
    return v;
}

template <int KIND>
__device__ __forceinline__ void reduce_body(const float* __restrict__ x, float* __restrict__ out,
                                            unsigned redLen, unsigned chunks, const ReduceWalk& w) {
    const unsigned b = blockIdx.x;
    const unsigned o = b / chunks, c = b - o * chunks;
    // Base offset of output o over the kept dimensions (innermost last).
    unsigned base = 0, rem = o;
#pragma unroll
    for (int d = RED_MAX_RANK - 1; d >= 0; --d) {
        if (d < w.keptRank) {
            const unsigned dim = (unsigned)w.keptDims[d];
            const unsigned q = rem / dim;
            base += (rem - q * dim) * (unsigned)w.keptStrides[d];
            rem = q;
        }
    }
    // 64-bit: c * L may exceed 2^32 when chunks > redLen.
    const unsigned long long L = (redLen + (unsigned long long)chunks - 1) / chunks;
    unsigned long long lo64 = (unsigned long long)c * L, hi64 = lo64 + L;
    if (lo64 > redLen) lo64 = redLen;
    if (hi64 > redLen) hi64 = redLen;
    const unsigned lo = (unsigned)lo64, hi = (unsigned)hi64;
    float s = thread_accumulate<KIND>(x, base, lo + threadIdx.x, hi, w);
    s = block_reduce<KIND>(s);
    if (threadIdx.x == 0) out[b] = s;
}

extern "C" __global__ void __launch_bounds__(RED_BLOCK)
reduce_f32(int kind, const float* x, float* out, int numOut, int redLen, int chunks, ReduceWalk w) {
    if (chunks <= 0 || redLen < 0 || blockIdx.x >= (unsigned)numOut * (unsigned)chunks) return;
    if (kind == 0) reduce_body<0>(x, out, (unsigned)redLen, (unsigned)chunks, w);
    else reduce_body<1>(x, out, (unsigned)redLen, (unsigned)chunks, w);
}

extern "C" __global__ void __launch_bounds__(RED_BLOCK)
sum_slices_f32(const float* __restrict__ partials, float* __restrict__ out, int slices, int len)
{
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < len;
         i += (long long)gridDim.x * blockDim.x) {
        float acc = 0.0f;
        for (int z = 0; z < slices; ++z) acc += partials[(long long)z * len + i];
        out[i] = acc;
    }
}
