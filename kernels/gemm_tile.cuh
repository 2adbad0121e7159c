// gemm_tile.cuh - the 128x128 register-blocked tile that gemm.cu's tiled GEMM and
// conv2d_igemm.cu's implicit-GEMM convolutions share: its geometry, the cp.async copy into
// shared memory and the double-buffered k loop. What differs between them is only where a tile's
// operands come from (a matrix with a leading dimension, or a gather from an image) and where the
// results go, so each kernel passes those as two small callables. scripts/build-kernels.sh hashes
// every .cu together with the kernels/*.cuh headers, so a change here rebuilds them all.
//
// Tile (see gemm.cu's header for why each choice): 256 threads, block tile 128 (M) x 128 (N),
// k depth 8 per shared tile, each thread an 8x8 micro-tile split as 2x2 sub-tiles of 4x4 (rows
// ty*4 and 64+ty*4, columns tx*4 and 64+tx*4; tx = tid%16, ty = tid/16). Shared tiles are
// k-major, As[k][m] and Bs[k][n], rows padded to 132 floats, double buffered.
//
// Summation order (what the bit-identity claims rest on): every accumulator starts at 0 and adds
// its products in order k = 0, 1, ..., K-1 with fmaf, one per k.

#pragma once

#include <cstdint>

#define GEMM_BM 128      // block tile rows (M)
#define GEMM_BN 128      // block tile columns (N)
#define GEMM_BK 8        // k depth of one shared-memory tile
#define GEMM_PAD 4       // row padding of the k-major shared tiles (see gemm.cu)
#define GEMM_THREADS 256

// 4-byte global -> shared asynchronous copy (sm_80+). The copy bypasses registers, so the next
// tile is in flight during the current tile's FFMAs without 8 prefetch registers per thread,
// which is what keeps the kernels within 128 registers (2 blocks per SM) without spilling.
// src-size = 0 turns the copy into a zero fill.
// The CPU emulator (src/test/native/cudaemu) has no PTX: there the copy is the synchronous
// load it stands for, which is what it is by the time cp_async_wait_all and the barrier after it
// return.
__device__ __forceinline__ void cp_async_f32(float* smem, const float* gmem, bool ok)
{
#ifdef MKDT_CUDA_EMU
    *smem = ok ? *gmem : 0.0f;
#else
    const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n"
                 :: "r"(s), "l"(gmem), "r"(ok ? 4 : 0) : "memory");
#endif
}

__device__ __forceinline__ void cp_async_wait_all()
{
#ifndef MKDT_CUDA_EMU
    asm volatile("cp.async.wait_all;\n" ::: "memory");
#endif
}

// The k loop's arithmetic, a template parameter of every tiled kernel (one entry point each):
//   GEMM_FP32   FFMA on the CUDA cores, each thread an 8x8 micro-tile (the reference).
//   GEMM_3XTF32 tensor cores, mma.sync m16n8k8 TF32 with FP32 accumulation, each operand split
//               as big = tf32(x) + small = tf32(x - big) and three products per step
//               (small.big + big.small + big.big; small.small, about 2^-22 of the product, is
//               dropped): float32-grade accuracy at tensor-core rate.
//   GEMM_TF32   one product per step, big.big: about 10 bits of operand precision, opt-in only.
// Each warp of the block computes a 64 x 32 part of the tile (warps 2 along M by 4 along N) as
// 4 x 4 MMA tiles of 16 x 8; a thread's accumulators are still 8 x 8 floats, laid out per
// GemmTileMap below.
enum GemmPrecision { GEMM_FP32 = 0, GEMM_3XTF32 = 1, GEMM_TF32 = 2 };

// x rounded to TF32 (10 mantissa bits, to nearest, ties away from zero, as cvt.rna.tf32.f32),
// returned as the float32 whose low 13 bits are zero. Plain integer arithmetic, so the device
// and the emulator compute the same operands. Values within half a TF32 step of FLT_MAX round
// to infinity; NaN stays NaN.
__device__ __forceinline__ float tf32_round(float x)
{
    return __int_as_float((int)(((unsigned)__float_as_int(x) + 0x1000u) & 0xffffe000u));
}

// d += a . b, one warp-wide mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32. Fragments (PTX
// ISA layout; g = lane/4, t = lane%4): a = A[g][t], A[g+8][t], A[g][t+4], A[g+8][t+4] of the
// 16 x 8 A; b = B[t][g], B[t+4][g] of the 8 x 8 B; d = D[g][2t], D[g][2t+1], D[g+8][2t],
// D[g+8][2t+1]. Every lane of the warp must call it together. The emulator implements it in
// C++ (cuda_emu_mma_m16n8k8_tf32: the same operands, products added in k order).
__device__ __forceinline__ void mma_tf32(float (&d)[4], const float (&a)[4], const float (&b)[2])
{
#ifdef MKDT_CUDA_EMU
    const unsigned ua[4] = {(unsigned)__float_as_int(a[0]), (unsigned)__float_as_int(a[1]),
                            (unsigned)__float_as_int(a[2]), (unsigned)__float_as_int(a[3])};
    const unsigned ub[2] = {(unsigned)__float_as_int(b[0]), (unsigned)__float_as_int(b[1])};
    cuda_emu_mma_m16n8k8_tf32(d, ua, ub);
#else
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(__float_as_int(a[0])), "r"(__float_as_int(a[1])), "r"(__float_as_int(a[2])), "r"(__float_as_int(a[3])),
                   "r"(__float_as_int(b[0])), "r"(__float_as_int(b[1])));
#endif
}

using GemmTileA = float[GEMM_BK][GEMM_BM + GEMM_PAD];
using GemmTileB = float[GEMM_BK][GEMM_BN + GEMM_PAD];

// The k loop of one 128x128 tile: acc (this thread's 8x8) = sum over k of op(A) op(B).
// issue(buf, kLeft) must start the copies of the next k-tile, the one whose first k is
// K - kLeft, into As[buf] and Bs[buf] (zero-filling k >= K and rows or columns outside the
// matrix); it is called once per k-tile, in order. The loop waits for those copies and holds
// the barriers: on return every thread of the block has finished reading both buffers.
template <int PREC, class Issue>
__device__ __forceinline__ void gemm_tile_k_loop(int K, GemmTileA* As, GemmTileB* Bs, Issue& issue,
                                                 float (&acc)[8][8])
{
    const int tx = threadIdx.x & 15;
    const int ty = threadIdx.x >> 4;
    // MMA fragment coordinates: the warp's 64 x 32 part of the tile, the lane's g and t.
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int wm = (warp & 1) * 64, wn = (warp >> 1) * 32;
#pragma unroll
    for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = 0.0f;

    if (K > 0) issue(0, K);
    cp_async_wait_all();
    __syncthreads();

    int buf = 0;
    for (int kLeft = K; kLeft > 0; kLeft -= GEMM_BK) {
        if (kLeft > GEMM_BK) issue(buf ^ 1, kLeft - GEMM_BK);

        if (PREC != GEMM_FP32) {
            // One k8 step: the warp's 4 x 4 MMA tiles. B's fragments for the 4 n-tiles once, then
            // A's per m-tile (fewer live registers than all of A's). Shared reads are
            // conflict-free: (t, g) covers the 32 banks as t*132 + g (132 = 4 mod 32).
            float bBig[4][2], bSmall[4][2];
#pragma unroll
            for (int ni = 0; ni < 4; ++ni) {
#pragma unroll
                for (int h = 0; h < 2; ++h) {
                    const float v = Bs[buf][t + 4 * h][wn + ni * 8 + g];
                    bBig[ni][h] = tf32_round(v);
                    bSmall[ni][h] = tf32_round(v - bBig[ni][h]);
                }
            }
#pragma unroll
            for (int mi = 0; mi < 4; ++mi) {
                const int r = wm + mi * 16 + g;
                const float av[4] = {As[buf][t][r], As[buf][t][r + 8], As[buf][t + 4][r], As[buf][t + 4][r + 8]};
                float aBig[4], aSmall[4];
#pragma unroll
                for (int q = 0; q < 4; ++q) {
                    aBig[q] = tf32_round(av[q]);
                    aSmall[q] = tf32_round(av[q] - aBig[q]);
                }
#pragma unroll
                for (int ni = 0; ni < 4; ++ni) {
                    float d[4] = {acc[2 * mi][2 * ni], acc[2 * mi][2 * ni + 1], acc[2 * mi + 1][2 * ni], acc[2 * mi + 1][2 * ni + 1]};
                    if (PREC == GEMM_3XTF32) {
                        // The small terms first: they are added while d is still small.
                        mma_tf32(d, aSmall, bBig[ni]);
                        mma_tf32(d, aBig, bSmall[ni]);
                    }
                    mma_tf32(d, aBig, bBig[ni]);
                    acc[2 * mi][2 * ni] = d[0];
                    acc[2 * mi][2 * ni + 1] = d[1];
                    acc[2 * mi + 1][2 * ni] = d[2];
                    acc[2 * mi + 1][2 * ni + 1] = d[3];
                }
            }
        } else {
#pragma unroll
        for (int kk = 0; kk < GEMM_BK; ++kk) {
            const float4 a0 = *reinterpret_cast<const float4*>(&As[buf][kk][ty * 4]);
            const float4 a1 = *reinterpret_cast<const float4*>(&As[buf][kk][64 + ty * 4]);
            const float4 b0 = *reinterpret_cast<const float4*>(&Bs[buf][kk][tx * 4]);
            const float4 b1 = *reinterpret_cast<const float4*>(&Bs[buf][kk][64 + tx * 4]);
            const float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
            const float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
            for (int i = 0; i < 8; ++i)
#pragma unroll
                for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        }

        // The copies into buf^1 were issued above, after the barrier that ended the previous
        // iteration (the last reader of buf^1), so one wait + one barrier per k-tile is enough.
        cp_async_wait_all();
        __syncthreads();
        buf ^= 1;
    }
}

// Which of a thread's 4 copy rows (or columns) first, first + 32, first + 64, first + 96 lie
// below limit, as bits 0..3: fixed for a whole k loop, so folded into one register.
__device__ __forceinline__ unsigned gemm_tile_mask(int first, int limit)
{
    unsigned ok = 0;
#pragma unroll
    for (int e = 0; e < 4; ++e)
        if (first + 32 * e < limit) ok |= 1u << e;
    return ok;
}

// Where a thread's accumulators sit in the 128 x 128 block tile: acc[i][*] is row row(i) of the
// tile (i = 0..7), and acc[i][h*VW .. h*VW + VW-1] are the VW consecutive columns starting at
// col(h) (h = 0 .. GROUPS-1). FP32: rows ty*4 + i and 64 + ty*4 + i - 4, two groups of 4 columns
// at tx*4 and 64 + tx*4. MMA: the warp's part at (wm, wn); rows wm + 16*(i/2) + 8*(i%2) + g, four
// groups of 2 columns at wn + 8h + 2t (the D fragment's layout).
template <int PREC>
struct GemmTileMap {
    static constexpr int VW = PREC == GEMM_FP32 ? 4 : 2;
    static constexpr int GROUPS = 8 / VW;
    __device__ __forceinline__ static int row(int i)
    {
        if (PREC == GEMM_FP32) return (i < 4) ? (threadIdx.x >> 4) * 4 + i : 64 + (threadIdx.x >> 4) * 4 + (i - 4);
        const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
        return (warp & 1) * 64 + (i >> 1) * 16 + (i & 1) * 8 + (lane >> 2);
    }
    __device__ __forceinline__ static int col(int h)
    {
        if (PREC == GEMM_FP32) return h * 64 + (threadIdx.x & 15) * 4;
        const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
        return (warp >> 1) * 32 + h * 8 + (lane & 3) * 2;
    }
};

// Whether VW-wide vector stores into rows of pitch ld starting at ptr are aligned (uniform per
// launch; the store below still checks that all VW columns are inside the matrix).
template <int VW>
__device__ __forceinline__ bool gemm_tile_vec_ok(const float* ptr, int ld)
{
    return (ld & (VW - 1)) == 0 && (reinterpret_cast<uintptr_t>(ptr) & (4 * VW - 1)) == 0;
}

// Stores VW consecutive results v[0..VW) to dst[0..n) (n: how many of them lie inside the
// matrix), dst = v + beta*dst (beta 0: dst is never read), as one float4 / float2 when vec and
// all VW lie inside, else element by element.
template <int VW>
__device__ __forceinline__ void gemm_tile_store(float* dst, const float* v, int first, int limit, bool vec, float beta)
{
    if (vec && first + (VW - 1) < limit) {
        if (VW == 4) {
            float4 o = make_float4(v[0], v[1], v[2], v[3]);
            if (beta != 0.0f) {
                const float4 old = *reinterpret_cast<const float4*>(dst);
                o.x = fmaf(beta, old.x, o.x);
                o.y = fmaf(beta, old.y, o.y);
                o.z = fmaf(beta, old.z, o.z);
                o.w = fmaf(beta, old.w, o.w);
            }
            *reinterpret_cast<float4*>(dst) = o;
        } else {
            float2 o = make_float2(v[0], v[1]);
            if (beta != 0.0f) {
                const float2 old = *reinterpret_cast<const float2*>(dst);
                o.x = fmaf(beta, old.x, o.x);
                o.y = fmaf(beta, old.y, o.y);
            }
            *reinterpret_cast<float2*>(dst) = o;
        }
    } else {
#pragma unroll
        for (int j = 0; j < VW; ++j)
            if (first + j < limit) dst[j] = (beta != 0.0f) ? fmaf(beta, dst[j], v[j]) : v[j];
    }
}
