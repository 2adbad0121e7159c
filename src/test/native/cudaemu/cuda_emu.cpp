// cuda_emu.cpp: a CPU stand-in for libcuda.so.1, for running the CUDA backend's tests without
// a GPU. It implements the part of the driver API that JCuda's backend calls (device queries,
// memory, copies, modules, launches) and runs the project's kernels, compiled from the same
// kernels/*.cu as plain C++ (cuda_emu.h), on one CPU thread.
//
// Execution model. A launch runs its blocks one after another. Each thread of a block is a
// fiber with its own stack; the fibers of a block run in turn and give way only at a barrier
// (__syncthreads, or the warp-wide one inside a shuffle). A barrier releases when every live
// thread of its scope has arrived; a thread that has returned no longer counts, as on the
// hardware. If every live thread waits and none can be released (divergent __syncthreads),
// the launch fails with CUDA_ERROR_LAUNCH_FAILED and a message on stderr.
//
// Launch limits are the hardware's (1024 threads per block, 65535 in gridDim.y and z), so a
// host-side grid computation that exceeds them fails here as it would on a GPU. Fresh device
// memory is filled with 0xFF bytes (a float NaN), so a kernel that reads what nobody wrote is
// noticed. Streams are synchronous: every call has finished when it returns.
//
// Environment: MKDT_CUDA_EMU_ORDER=reverse (the race check) and MKDT_CUDA_EMU_EXECUTE=0 (the
// dry run), both described where they are read below.
//
// Only x86-64 Linux: the fiber switch is eight instructions of assembly below.

#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "cuda_emu_registry.h"

#if !defined(__x86_64__) || !defined(__linux__)
#error "the CUDA emulator's fibers are written for x86-64 Linux"
#endif

struct uint3 { unsigned x, y, z; };

namespace {

// ---- the driver's types, as the ABI has them ----
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = void*;
using CUmodule = void*;
using CUstream = void*;
using CUfunction = const cuda_emu::Kernel*;
struct EmuEvent { double ms; };  // the host's clock when the (synchronous) stream reached it
using CUevent = EmuEvent*;

constexpr CUresult kSuccess = 0, kInvalidValue = 1, kOutOfMemory = 2, kInvalidDevice = 101,
                   kInvalidHandle = 400, kNotFound = 500, kLaunchFailed = 719;

constexpr int kMaxThreads = 1024;
constexpr int kMaxGridYZ = 65535;
constexpr size_t kStackBytes = 64 * 1024;
constexpr size_t kSharedBytes = 48 * 1024;   // dynamic shared memory the kernels may ask for

std::recursive_mutex driverLock;  // the JVM may call from several threads; the emulator is one
size_t allocatedBytes = 0;
std::unordered_map<CUdeviceptr, size_t> allocations;
int contextToken, moduleToken, streamToken;

// ---- fibers ----
struct Barrier {
    int arrived = 0;
    unsigned generation = 0;
};

struct Fiber {
    void* sp;
    uint3 tid;
    int warp;
    bool done;
    const unsigned* waitGeneration;  // blocked while *waitGeneration == waitFor
    unsigned waitFor;
};

struct Block {
    Fiber fibers[kMaxThreads];
    int threads = 0, live = 0;
    int liveInWarp[kMaxThreads / 32];
    Barrier block, warps[kMaxThreads / 32];
    unsigned lanes[kMaxThreads];  // shuffle exchange, one slot per thread
    unsigned mmaA[kMaxThreads][4], mmaB[kMaxThreads][2];  // mma.sync fragment exchange
};

Block run;
char* stacks = nullptr;
void* schedulerSp = nullptr;
Fiber* current = nullptr;
const cuda_emu::Kernel* kernel = nullptr;
void** kernelParams = nullptr;

// MKDT_CUDA_EMU_ORDER=reverse runs each block's threads last to first between barriers. A
// kernel whose results change with the order has a race (a missing __syncthreads, or two
// threads writing one place), which the hardware would show only now and then.
const bool reverseOrder = [] {
    const char* o = std::getenv("MKDT_CUDA_EMU_ORDER");
    return o && std::strcmp(o, "reverse") == 0;
}();

// MKDT_CUDA_EMU_EXECUTE=0 is a dry run: launches are checked and counted but not run, memory
// is reserved but never touched, copies and fills are skipped (a copy to the host reads zeros).
// What the host side does is then exactly what it does on a GPU, at any size, in seconds:
// which kernels it launches, how many, and what its allocator holds at its peak. The numbers
// the kernels would compute are not there.
const bool execute = [] {
    const char* e = std::getenv("MKDT_CUDA_EMU_EXECUTE");
    return !(e && std::strcmp(e, "0") == 0);
}();

// What the emulated device reports as its memory: an H100's 80 GiB for a dry run, which touches
// none of it; 16 GiB otherwise, so that a runaway test meets CUDA_ERROR_OUT_OF_MEMORY before
// the host runs out.
const size_t kTotalBytes = (execute ? 16ull : 80ull) << 30;

}  // namespace

extern "C" void cuda_emu_switch(void** save, void* to);
// Saves the callee-saved registers on the current stack, stores the stack pointer in *save,
// and resumes whatever was saved on the stack at `to` the same way.
asm(R"(
    .text
    .globl cuda_emu_switch
    .type cuda_emu_switch, @function
cuda_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size cuda_emu_switch, .-cuda_emu_switch
)");

extern "C" {
uint3 cuda_emu_block_idx, cuda_emu_block_dim, cuda_emu_grid_dim;
const uint3* cuda_emu_thread_idx() { return &current->tid; }
}

namespace {

void yieldToScheduler() { cuda_emu_switch(&current->sp, schedulerSp); }

void releaseIfComplete(Barrier& b, int participants)
{
    if (b.arrived > 0 && b.arrived >= participants) {
        b.arrived = 0;
        ++b.generation;
    }
}

void arrive(Barrier& b, int participants)
{
    if (++b.arrived >= participants) {  // the last one in releases the others and runs on
        b.arrived = 0;
        ++b.generation;
        return;
    }
    current->waitGeneration = &b.generation;
    current->waitFor = b.generation;
    yieldToScheduler();
}

[[noreturn]] void fiberMain()
{
    kernel->invoke(kernelParams);
    Fiber* f = current;
    f->done = true;
    --run.live;
    --run.liveInWarp[f->warp];
    releaseIfComplete(run.block, run.live);
    releaseIfComplete(run.warps[f->warp], run.liveInWarp[f->warp]);
    yieldToScheduler();
    std::abort();  // a finished fiber is never resumed
}

// A new fiber's stack holds what cuda_emu_switch pops: six zero registers, then fiberMain as
// the return address. With the stack top 16-byte aligned, fiberMain starts with rsp = 8 mod 16,
// as after a call.
void* freshStack(int i)
{
    auto** sp = reinterpret_cast<void**>(stacks + (size_t)(i + 1) * kStackBytes - 64);
    for (int r = 0; r < 6; ++r) sp[r] = nullptr;
    sp[6] = reinterpret_cast<void*>(&fiberMain);
    sp[7] = nullptr;
    return sp;
}

bool runBlock(int threads, const uint3& dim)
{
    run.threads = run.live = threads;
    for (int w = 0; w < (threads + 31) / 32; ++w) {
        run.liveInWarp[w] = std::min(32, threads - 32 * w);
        run.warps[w] = Barrier{};
    }
    run.block = Barrier{};
    for (int i = 0; i < threads; ++i) {
        Fiber& f = run.fibers[i];
        f.sp = freshStack(i);
        f.tid = uint3{(unsigned)i % dim.x, (unsigned)i / dim.x % dim.y, (unsigned)i / (dim.x * dim.y)};
        f.warp = i / 32;
        f.done = false;
        f.waitGeneration = nullptr;
    }
    while (run.live > 0) {
        bool ran = false;
        for (int k = 0; k < threads; ++k) {
            Fiber& f = run.fibers[reverseOrder ? threads - 1 - k : k];
            if (f.done || (f.waitGeneration && *f.waitGeneration == f.waitFor)) continue;
            f.waitGeneration = nullptr;
            current = &f;
            cuda_emu_switch(&schedulerSp, f.sp);
            ran = true;
        }
        if (!ran) return false;  // every live thread waits at a barrier nobody else will reach
    }
    return true;
}

bool ensureStacks()
{
    if (stacks) return true;
    void* m = mmap(nullptr, kStackBytes * kMaxThreads, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return false;
    stacks = static_cast<char*>(m);
    // A guard page at the bottom of each stack turns an overflow into a crash, not corruption.
    for (int i = 0; i < kMaxThreads; ++i) mprotect(stacks + (size_t)i * kStackBytes, 4096, PROT_NONE);
    return true;
}

}  // namespace

extern "C" {

void cuda_emu_syncthreads() { arrive(run.block, run.live); }

unsigned cuda_emu_shfl_down(unsigned bits, unsigned delta, int width)
{
    const int i = static_cast<int>(current - run.fibers);
    const int w = current->warp;
    run.lanes[i] = bits;
    arrive(run.warps[w], run.liveInWarp[w]);  // every lane has published its value
    const int lane = i % 32, segment = lane / width * width;
    const int src = lane + (int)delta;
    unsigned v = (src < segment + width && 32 * w + src < run.threads) ? run.lanes[32 * w + src] : bits;
    arrive(run.warps[w], run.liveInWarp[w]);  // every lane has read before any writes again
    return v;
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 for the running warp, d += a . b with
// A (16 x 8) and B (8 x 8) spread over the lanes as the PTX ISA lays them out (g = lane / 4,
// t = lane % 4): a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4];
// b0 = B[t][g], b1 = B[t+4][g]; d0 = D[g][2t], d1 = D[g][2t+1], d2 = D[g+8][2t], d3 = D[g+8][2t+1].
// Every lane publishes its fragments, the warp meets, each lane computes its own four outputs,
// the warp meets again (no lane overwrites a fragment another is still reading). The operands are
// TF32: only their top 19 bits count (the low 13 are masked off, as the tensor cores ignore
// them). Products of two TF32 values are exact in float32; they are added to d in order
// k = 0..7 with fmaf. The hardware's order and rounding inside one MMA are not specified, so a
// GPU's bits may differ from these in the last place; results are compared with tolerances.
void cuda_emu_mma_m16n8k8_tf32(float* d, const unsigned* a, const unsigned* b)
{
    const int i = static_cast<int>(current - run.fibers);
    const int w = current->warp;
    for (int r = 0; r < 4; ++r) run.mmaA[i][r] = a[r];
    run.mmaB[i][0] = b[0];
    run.mmaB[i][1] = b[1];
    arrive(run.warps[w], run.liveInWarp[w]);
    const int lane = i % 32, g = lane >> 2, t = lane & 3, base = 32 * w;
    auto tf32 = [](unsigned bits) { bits &= 0xffffe000u; float f; std::memcpy(&f, &bits, 4); return f; };
    for (int r = 0; r < 4; ++r) {
        const int row = g + (r >= 2 ? 8 : 0), col = 2 * t + (r & 1);
        float acc = d[r];
        for (int k = 0; k < 8; ++k) {
            const float av = tf32(run.mmaA[base + (row & 7) * 4 + (k & 3)][(row >= 8 ? 1 : 0) + (k >= 4 ? 2 : 0)]);
            const float bv = tf32(run.mmaB[base + col * 4 + (k & 3)][k >= 4 ? 1 : 0]);
            acc = std::fma(av, bv, acc);
        }
        d[r] = acc;
    }
    arrive(run.warps[w], run.liveInWarp[w]);
}

// ---- driver API (the names libcuda.so.1 exports; the _v2 forms are what cuda.h maps to) ----

CUresult cuInit(unsigned) { return kSuccess; }
CUresult cuDriverGetVersion(int* v) { *v = 13000; return kSuccess; }
CUresult cuDeviceGetCount(int* n) { *n = 1; return kSuccess; }
CUresult cuDeviceGet(CUdevice* d, int ordinal) { if (ordinal != 0) return kInvalidDevice; *d = 0; return kSuccess; }
CUresult cuDevicePrimaryCtxRetain(CUcontext* c, CUdevice) { *c = &contextToken; return kSuccess; }
CUresult cuCtxSetCurrent(CUcontext) { return kSuccess; }
CUresult cuStreamCreate(CUstream* s, unsigned) { *s = &streamToken; return kSuccess; }
CUresult cuStreamSynchronize(CUstream) { return kSuccess; }
CUresult cuCtxSynchronize() { return kSuccess; }

CUresult cuDeviceGetName(char* name, int len, CUdevice)
{
    std::snprintf(name, (size_t)len, "%s", "CUDA emulator on the CPU (cuda_emu)");
    return kSuccess;
}

CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice) { *bytes = kTotalBytes; return kSuccess; }

CUresult cuMemGetInfo_v2(size_t* freeBytes, size_t* total)
{
    std::lock_guard<std::recursive_mutex> g(driverLock);
    *freeBytes = kTotalBytes - allocatedBytes;
    *total = kTotalBytes;
    return kSuccess;
}

CUresult cuDeviceGetAttribute(int* v, int attribute, CUdevice)
{
    // The numbers of an H100 where the backend asks; the CUdevice_attribute values of cuda.h.
    static const std::map<int, int> known = {
        {1, kMaxThreads}, {2, 1024}, {3, 1024}, {4, 64}, {5, INT32_MAX}, {6, kMaxGridYZ}, {7, kMaxGridYZ},
        {8, (int)kSharedBytes}, {10, 32}, {12, 65536}, {16, 132}, {75, 9}, {76, 0},
        {81, 228 * 1024}, {97, 227 * 1024}};
    auto it = known.find(attribute);
    *v = it == known.end() ? 0 : it->second;
    return kSuccess;
}

CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes)
{
    std::lock_guard<std::recursive_mutex> g(driverLock);
    if (bytes == 0) return kInvalidValue;
    if (bytes > kTotalBytes - allocatedBytes) return kOutOfMemory;
    void* m;
    if (execute) {
        m = std::aligned_alloc(256, (bytes + 255) / 256 * 256);  // cudaMalloc aligns to 256
        if (!m) return kOutOfMemory;
        std::memset(m, 0xFF, bytes);
    } else {  // address space only: pages that are never written cost no memory
        m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) return kOutOfMemory;
    }
    *p = reinterpret_cast<CUdeviceptr>(m);
    allocations[*p] = bytes;
    allocatedBytes += bytes;
    return kSuccess;
}

CUresult cuMemFree_v2(CUdeviceptr p)
{
    std::lock_guard<std::recursive_mutex> g(driverLock);
    auto it = allocations.find(p);
    if (it == allocations.end()) return kInvalidValue;
    allocatedBytes -= it->second;
    if (execute) std::free(reinterpret_cast<void*>(p));
    else munmap(reinterpret_cast<void*>(p), it->second);
    allocations.erase(it);
    return kSuccess;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, CUstream)
{
    if (execute) std::memcpy(reinterpret_cast<void*>(dst), src, bytes);
    return kSuccess;
}

CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, CUstream)
{
    std::memcpy(dst, reinterpret_cast<const void*>(src), bytes);
    return kSuccess;
}

CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream)
{
    if (execute) std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes);
    return kSuccess;
}

CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t n, CUstream)
{
    auto* d = reinterpret_cast<unsigned*>(dst);
    if (execute)
        for (size_t i = 0; i < n; ++i) d[i] = value;
    return kSuccess;
}

CUresult cuModuleLoadData(CUmodule* m, const void*)
{
    // The image is the nvcc fatbin; its kernels' CPU builds are linked into this library.
    *m = &moduleToken;
    return kSuccess;
}

CUresult cuModuleGetFunction(CUfunction* f, CUmodule, const char* name)
{
    const cuda_emu::Kernel* k = cuda_emu::find(name);
    if (!k) return kNotFound;
    *f = k;
    return kSuccess;
}

CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                        unsigned bz, unsigned sharedBytes, CUstream, void** params, void** extra)
{
    std::lock_guard<std::recursive_mutex> g(driverLock);
    if (!f) return kInvalidHandle;
    const unsigned long long threads = (unsigned long long)bx * by * bz;
    if (extra || gx == 0 || gy == 0 || gz == 0 || gy > kMaxGridYZ || gz > kMaxGridYZ || gx > (unsigned)INT32_MAX
        || threads == 0 || threads > kMaxThreads || bz > 64 || sharedBytes > kSharedBytes)
        return kInvalidValue;
    if (!execute) return kSuccess;
    if (!ensureStacks()) return kOutOfMemory;
    kernel = f;
    kernelParams = params;
    cuda_emu_grid_dim = uint3{gx, gy, gz};
    cuda_emu_block_dim = uint3{bx, by, bz};
    for (unsigned z = 0; z < gz; ++z)
        for (unsigned y = 0; y < gy; ++y)
            for (unsigned x = 0; x < gx; ++x) {
                cuda_emu_block_idx = uint3{x, y, z};
                if (!runBlock((int)threads, cuda_emu_block_dim)) {
                    std::fprintf(stderr, "cuda_emu: %s block (%u,%u,%u): every live thread waits at a barrier "
                                         "that the others never reach\n", f->name, x, y, z);
                    return kLaunchFailed;
                }
            }
    return kSuccess;
}

// Events (the kernel profile's, MKDT_CUDA_PROFILE=1): streams are synchronous here, so an
// event's time is the host's clock when it is recorded; an emulated kernel's "time" is its CPU time.
CUresult cuEventCreate(CUevent* e, unsigned) { *e = new EmuEvent{0}; return kSuccess; }
CUresult cuEventDestroy_v2(CUevent e) { delete e; return kSuccess; }
CUresult cuEventSynchronize(CUevent e) { return e ? kSuccess : kInvalidHandle; }
CUresult cuEventQuery(CUevent e) { return e ? kSuccess : kInvalidHandle; }

CUresult cuEventRecord(CUevent e, CUstream)
{
    if (!e) return kInvalidHandle;
    e->ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
    return kSuccess;
}

CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent end)
{
    if (!start || !end) return kInvalidHandle;
    *ms = (float)(end->ms - start->ms);
    return kSuccess;
}

CUresult cuGetErrorName(CUresult e, const char** s)
{
    static thread_local std::string text;
    text = "CUDA_EMU_ERROR_" + std::to_string(e);
    *s = text.c_str();
    return kSuccess;
}

CUresult cuGetErrorString(CUresult e, const char** s) { return cuGetErrorName(e, s); }

}  // extern "C"

// ---- the kernel registry ----
namespace cuda_emu {

static std::unordered_map<std::string, const Kernel*>& table()
{
    static std::unordered_map<std::string, const Kernel*> t;
    return t;
}

Registration::Registration(const Kernel* k) { table()[k->name] = k; }

const Kernel* find(const char* name)
{
    auto it = table().find(name);
    return it == table().end() ? nullptr : it->second;
}

}  // namespace cuda_emu
