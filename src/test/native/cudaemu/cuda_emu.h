// cuda_emu.h: compiles the project's kernels/*.cu as plain C++ for the CUDA emulator.
//
// The emulator (cuda_emu.cpp) stands in for libcuda.so.1 so that the CUDA backend's tests run
// on a machine without a GPU: every kernel thread becomes a fiber, a block's fibers run in turn
// on one CPU thread and switch only at __syncthreads and warp shuffles. This header maps the
// CUDA C++ the kernels use onto that model:
//   - __shared__ variables become function statics: shared by all fibers of a block, and since
//     blocks run one after another, each block sees them as its own.
//   - threadIdx is the running fiber's index; blockIdx, blockDim and gridDim are set per block.
//   - __syncthreads and the shuffles are calls into the scheduler. They are out-of-line calls
//     into another translation unit, so the compiler reloads shared statics after them, as a
//     real barrier requires.
// Floating point follows the source: compile with -ffp-contract=off so that a*b+c stays two
// roundings, as nvcc's __fmul_rn/__fadd_rn demand; fmaf is the C library's exact fused op.
// What the emulator cannot show (races between warps, the hardware's approximate intrinsics,
// timing) is listed in src/test/native/cudaemu/README.md.
#pragma once

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#define MKDT_CUDA_EMU 1

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

struct uint3 { unsigned x, y, z; };
using dim3 = uint3;
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
struct __attribute__((aligned(8))) float2 { float x, y; };
inline float2 make_float2(float x, float y) { return float2{x, y}; }

extern "C" {
const uint3* cuda_emu_thread_idx();
extern uint3 cuda_emu_block_idx, cuda_emu_block_dim, cuda_emu_grid_dim;
void cuda_emu_syncthreads();
unsigned cuda_emu_shfl_down(unsigned bits, unsigned delta, int width);
void cuda_emu_mma_m16n8k8_tf32(float* d, const unsigned* a, const unsigned* b);
}

#define threadIdx (*cuda_emu_thread_idx())
#define blockIdx cuda_emu_block_idx
#define blockDim cuda_emu_block_dim
#define gridDim cuda_emu_grid_dim
#define __syncthreads() cuda_emu_syncthreads()

// CUDA's min and max are overloaded for every arithmetic pair; the usual conversions decide.
template <class A, class B>
inline std::common_type_t<A, B> min(A a, B b) { return b < a ? b : a; }
template <class A, class B>
inline std::common_type_t<A, B> max(A a, B b) { return a < b ? b : a; }

template <class T>
inline T __ldg(const T* p) { return *p; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }

template <class T>
inline T __shfl_down_sync(unsigned /*mask: the emulator's warps are always whole*/, T v, unsigned delta, int width = 32)
{
    static_assert(sizeof(T) == 4, "the emulator shuffles 32-bit values");
    unsigned bits;
    std::memcpy(&bits, &v, 4);
    bits = cuda_emu_shfl_down(bits, delta, width);
    std::memcpy(&v, &bits, 4);
    return v;
}

// Fibers switch only at barriers, so a read-modify-write is never interleaved.
inline float atomicAdd(float* p, float v) { float old = *p; *p = old + v; return old; }
inline int atomicAdd(int* p, int v) { int old = *p; *p = old + v; return old; }
inline unsigned atomicAdd(unsigned* p, unsigned v) { unsigned old = *p; *p = old + v; return old; }

// Marks where the kernel file's own text begins in the preprocessed output: the build script
// lists the extern "C" kernels after it, and every system header above is included already.
struct cuda_emu_kernel_file_begins;
