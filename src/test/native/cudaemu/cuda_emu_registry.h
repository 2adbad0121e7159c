// cuda_emu_registry.h: how the emulator finds a kernel by name and calls it with the
// kernelParams array of cuLaunchKernel (one pointer to each argument's value, in order).
// scripts/cudaemu.sh writes one CUDA_EMU_KERNEL line per extern "C" kernel of each .cu file.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace cuda_emu {

struct Kernel {
    const char* name;
    void (*invoke)(void** params);
};

struct Registration {
    explicit Registration(const Kernel* k);
};

const Kernel* find(const char* name);

// Reads each argument from its kernelParams slot as the kernel's own parameter type, the way
// the driver copies argument bytes for a real launch.
template <class... A, std::size_t... I>
void call(void (*f)(A...), void** params, std::index_sequence<I...>)
{
    f(*static_cast<std::remove_cv_t<std::remove_reference_t<A>>*>(params[I])...);
}

template <class... A>
constexpr std::size_t arity(void (*)(A...)) { return sizeof...(A); }

template <auto F>
void invoke(void** params)
{
    call(F, params, std::make_index_sequence<arity(F)>{});
}

}  // namespace cuda_emu

#define CUDA_EMU_KERNEL(name)                                                                   \
    static const ::cuda_emu::Kernel cuda_emu_kernel_##name{#name, &::cuda_emu::invoke<&name>};  \
    static const ::cuda_emu::Registration cuda_emu_registration_##name(&cuda_emu_kernel_##name);
