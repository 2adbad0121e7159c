// instancenorm.cu - fused instance norm over each (n, c) plane of P = H*W elements
// (CPU reference: InstanceNormKernel). planes = N*C; all plane tensors are (planes, P).
//
// Entry points:
//   instancenorm_forward_f32 (const float* x, float* xhat, float* rstd, int planes, int P, float eps)
//       mean = sum(x)/P; var = sum((x - mean)^2)/P (biased, two passes);
//       rstd[plane] = 1 / sqrt(var + eps); xhat = (x - mean) * rstd.
//   instancenorm_backward_f32(const float* g, const float* xhat, const float* rstd, float* dx, int planes, int P)
//       dx = rstd * ((g - mean(g)) - xhat * mean(g*xhat)).
//   instancenorm_gradgrad_f32(const float* u, const float* g, const float* xhat, const float* rstd,
//                             float* out, int planes, int P)
//       A = mean(g*xhat), B = mean(u*xhat), C = mean(u*g) - mean(u)*mean(g);
//       out = rstd^2 * ((3AB - C) * xhat - B * (g - mean g) - A * (u - mean u)).
//   Outputs never alias inputs.
//
// Launch (all three): block exactly 256, grid = planes (1-D, one block per plane), no dynamic
// shared memory. The block size fixes the summation order (determinism), so it must not vary.
//
// Why: a plane is reduced by one block, so every statistic is produced in a fixed order with
// no atomics and no second launch. P may be large (up to 65536 and beyond), so nothing is
// staged in shared memory: each pass re-reads the plane from global memory (the re-reads of
// one block's plane mostly hit L2). The forward needs a separate pass for the centred sum of
// squares (accurate variance, as the CPU does); the backward needs one statistics pass (2
// sums reduced together) and the second order one pass (5 sums reduced together), each
// followed by the elementwise pass. Loads are scalar (thread t reads t, t+256, ...: coalesced)
// on purpose: a vector path taken only for aligned pointers would change the summation order
// with the allocation, and results must not depend on where a tensor lives.
// Each thread accumulates its elements in index order in float registers, loads issued
// ahead of the dependent adds (the same order as one at a time); then a fixed warp-shuffle
// tree and a fixed tree over the 8 warps; the totals are broadcast through shared memory.
// Throughput follows the number of planes: on an H100, 16384 planes of 1024 run at
// ~2.5-2.8 TB/s, but 256 planes of 65536 only ~0.7-1.1 TB/s (too few blocks to fill the GPU).
//
// Precision: the CPU accumulates in double; these kernels accumulate in float (products with
// fmaf), the per-thread partial sums covering at most ceil(P/256) terms before the 256-way
// tree, so statistics agree with the CPU within roughly (P/256 + 8) * 2^-24 relative to the
// sums of magnitudes. C is formed as mean(u g) - mean(u) mean(g), as on the CPU; it loses
// relative accuracy in float when |mean u * mean g| is much larger than the covariance.
// rstd = 1.0f / sqrtf(var + eps) (eps added in float, as the CPU adds it in double).

#define IN_BLOCK 256

#include "block_sum.cuh"

extern "C" __global__ void __launch_bounds__(IN_BLOCK)
instancenorm_forward_f32(const float* __restrict__ x, float* __restrict__ xhat, float* __restrict__ rstd,
                         int planes, int P, float eps) {
    if ((int)blockIdx.x >= planes || P <= 0) return;
    const unsigned n = (unsigned)P, S = blockDim.x, t = threadIdx.x;
    const size_t base = (size_t)blockIdx.x * n;
    const float* xp = x + base;
    float* hp = xhat + base;

    float s[1] = {0.0f};
    unsigned i = t;
    for (; i + 3 * S < n; i += 4 * S) {
        const float a = xp[i], b = xp[i + S], c = xp[i + 2 * S], d = xp[i + 3 * S];
        s[0] += a;
        s[0] += b;
        s[0] += c;
        s[0] += d;
    }
    for (; i < n; i += S) s[0] += xp[i];
    block_sum<1>(s);
    const float mean = s[0] / (float)n;

    float q[1] = {0.0f};
    i = t;
    for (; i + 3 * S < n; i += 4 * S) {
        const float a = xp[i] - mean, b = xp[i + S] - mean, c = xp[i + 2 * S] - mean, d = xp[i + 3 * S] - mean;
        q[0] = fmaf(a, a, q[0]);
        q[0] = fmaf(b, b, q[0]);
        q[0] = fmaf(c, c, q[0]);
        q[0] = fmaf(d, d, q[0]);
    }
    for (; i < n; i += S) {
        const float a = xp[i] - mean;
        q[0] = fmaf(a, a, q[0]);
    }
    block_sum<1>(q);
    const float var = q[0] / (float)n;
    const float r = 1.0f / sqrtf(var + eps);
    if (t == 0) rstd[blockIdx.x] = r;

    for (i = t; i < n; i += S) hp[i] = (xp[i] - mean) * r;
}

extern "C" __global__ void __launch_bounds__(IN_BLOCK)
instancenorm_backward_f32(const float* __restrict__ g, const float* __restrict__ xhat, const float* __restrict__ rstd,
                          float* __restrict__ dx, int planes, int P) {
    if ((int)blockIdx.x >= planes || P <= 0) return;
    const unsigned n = (unsigned)P, S = blockDim.x, t = threadIdx.x;
    const size_t base = (size_t)blockIdx.x * n;
    const float* gp = g + base;
    const float* hp = xhat + base;
    float* dp = dx + base;

    float s[2] = {0.0f, 0.0f};  // sum g, sum g*xhat
    unsigned i = t;
    for (; i + 3 * S < n; i += 4 * S) {
        float gv[4], hv[4];
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            gv[k] = gp[i + k * S];
            hv[k] = hp[i + k * S];
        }
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            s[0] += gv[k];
            s[1] = fmaf(gv[k], hv[k], s[1]);
        }
    }
    for (; i < n; i += S) {
        const float gv = gp[i], hv = hp[i];
        s[0] += gv;
        s[1] = fmaf(gv, hv, s[1]);
    }
    block_sum<2>(s);
    const float fn = (float)n;
    const float mg = s[0] / fn, mgh = s[1] / fn;
    const float r = rstd[blockIdx.x];

    for (i = t; i < n; i += S) dp[i] = r * fmaf(-hp[i], mgh, gp[i] - mg);
}

extern "C" __global__ void __launch_bounds__(IN_BLOCK)
instancenorm_gradgrad_f32(const float* __restrict__ u, const float* __restrict__ g, const float* __restrict__ xhat,
                          const float* __restrict__ rstd, float* __restrict__ out, int planes, int P) {
    if ((int)blockIdx.x >= planes || P <= 0) return;
    const unsigned n = (unsigned)P, S = blockDim.x, t = threadIdx.x;
    const size_t base = (size_t)blockIdx.x * n;
    const float* up = u + base;
    const float* gp = g + base;
    const float* hp = xhat + base;
    float* op = out + base;

    float s[5] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f};  // sum u, g, u*xhat, g*xhat, u*g
    unsigned i = t;
    for (; i + S < n; i += 2 * S) {
        float uv[2], gv[2], hv[2];
#pragma unroll
        for (int k = 0; k < 2; ++k) {
            uv[k] = up[i + k * S];
            gv[k] = gp[i + k * S];
            hv[k] = hp[i + k * S];
        }
#pragma unroll
        for (int k = 0; k < 2; ++k) {
            s[0] += uv[k];
            s[1] += gv[k];
            s[2] = fmaf(uv[k], hv[k], s[2]);
            s[3] = fmaf(gv[k], hv[k], s[3]);
            s[4] = fmaf(uv[k], gv[k], s[4]);
        }
    }
    for (; i < n; i += S) {
        const float uv = up[i], gv = gp[i], hv = hp[i];
        s[0] += uv;
        s[1] += gv;
        s[2] = fmaf(uv, hv, s[2]);
        s[3] = fmaf(gv, hv, s[3]);
        s[4] = fmaf(uv, gv, s[4]);
    }
    block_sum<5>(s);
    const float fn = (float)n;
    const float mu = s[0] / fn, mg = s[1] / fn, muh = s[2] / fn, mgh = s[3] / fn, mug = s[4] / fn;
    // Explicit fmaf wherever a product meets a sum, so the rounding does not depend on
    // whether the compiler contracts (--fmad).
    const float A = mgh, B = muh, C = fmaf(-mu, mg, mug);
    const float r = rstd[blockIdx.x], r2 = r * r;
    const float k3 = fmaf(3.0f * A, B, -C);

    for (i = t; i < n; i += S) {
        const float hv = hp[i], gv = gp[i], uv = up[i];
        float v = k3 * hv;
        v = fmaf(-B, gv - mg, v);
        v = fmaf(-A, uv - mu, v);
        op[i] = r2 * v;
    }
}
