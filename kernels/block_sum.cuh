// block_sum.cuh - the fixed-order block reduction shared by the per-plane kernels
// (instancenorm.cu, relupool2.cu). Included by each .cu that needs it; scripts/build-kernels.sh
// hashes every .cu together with the kernels/*.cuh headers, so a change here rebuilds them all.
//
// block_sum<K>(v): each thread's K partial sums are added over the whole block - a warp-shuffle
// tree, then a tree over the (at most 32) warps - in an order fixed by the block size, with no
// atomics; every thread returns the K totals. The block size must be a multiple of 32 and the
// same on every launch (it fixes the order, so it fixes the bits).

#pragma once

// Lane 0 of each warp gets the sums of the warp's K values (a fixed shuffle tree).
template <int K>
__device__ __forceinline__ void warp_sum(float (&v)[K]) {
#pragma unroll
    for (int o = 16; o >= 1; o >>= 1) {
#pragma unroll
        for (int k = 0; k < K; ++k) v[k] += __shfl_down_sync(0xffffffffu, v[k], o);
    }
}

// Sums K values over the block in a fixed order; every thread returns the totals.
template <int K>
__device__ __forceinline__ void block_sum(float (&v)[K]) {
    __shared__ float part[K][32];
    __shared__ float total[K];
    const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    const unsigned nw = blockDim.x >> 5;
    warp_sum(v);
    if (lane == 0) {
#pragma unroll
        for (int k = 0; k < K; ++k) part[k][warp] = v[k];
    }
    __syncthreads();
    if (warp == 0) {
#pragma unroll
        for (int k = 0; k < K; ++k) v[k] = lane < nw ? part[k][lane] : 0.0f;
        warp_sum(v);
        if (lane == 0) {
#pragma unroll
            for (int k = 0; k < K; ++k) total[k] = v[k];
        }
    }
    __syncthreads();
    // No trailing barrier needed before the next call: its writes to part[] come after this
    // barrier (warp 0 has finished reading part[]), and its writes to total[] come after its
    // own first barrier, which every thread reaches only after reading total[] here.
#pragma unroll
    for (int k = 0; k < K; ++k) v[k] = total[k];
}
