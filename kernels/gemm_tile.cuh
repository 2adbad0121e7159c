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

using GemmTileA = float[GEMM_BK][GEMM_BM + GEMM_PAD];
using GemmTileB = float[GEMM_BK][GEMM_BN + GEMM_PAD];

// The k loop of one 128x128 tile: acc (this thread's 8x8) = sum over k of op(A) op(B).
// issue(buf, kLeft) must start the copies of the next k-tile, the one whose first k is
// K - kLeft, into As[buf] and Bs[buf] (zero-filling k >= K and rows or columns outside the
// matrix); it is called once per k-tile, in order. The loop waits for those copies and holds
// the barriers: on return every thread of the block has finished reading both buffers.
template <class Issue>
__device__ __forceinline__ void gemm_tile_k_loop(int K, GemmTileA* As, GemmTileB* Bs, Issue& issue,
                                                 float (&acc)[8][8])
{
    const int tx = threadIdx.x & 15;
    const int ty = threadIdx.x >> 4;
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

// Row r (0..127) of the block tile that accumulator row i (0..7) of this thread holds, and the
// first of the 4 consecutive columns that accumulator columns 4h..4h+3 (h = 0, 1) hold.
__device__ __forceinline__ int gemm_tile_row(int i) { return (i < 4) ? (threadIdx.x >> 4) * 4 + i : 64 + (threadIdx.x >> 4) * 4 + (i - 4); }
__device__ __forceinline__ int gemm_tile_col(int h) { return h * 64 + (threadIdx.x & 15) * 4; }
