package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.BLOCK;
import static org.mkdt.backend.cuda.Kernels.ptr;

import jcuda.driver.CUfunction;
import org.mkdt.tensor.Tensor;

/**
 * kernels/adjoint.cu: the reverse sweep's a -= alpha * h, with dAlpha -= s in the same launch
 * (so the learning rate's gradient never visits the host). alpha goes to the kernel as a
 * float, and each element is one fmaf: within float32 rounding of the CPU's double, not the
 * same bits.
 */
final class AdjointKernel {
    private final Launcher launcher;
    private final CUfunction step;

    AdjointKernel(KernelModule m, Launcher launcher) {
        this.launcher = launcher;
        step = m.function("adjoint_step_f32");
    }

    /** a -= alpha * h in place (same shape); dAlpha (1 element) -= s (1 element) when s is not null. */
    void step(Tensor a, Tensor h, double alpha, Tensor s, Tensor dAlpha) {
        int n = a.numel();
        if (n == 0 && s == null) return;
        // Four elements per thread on the float4 path (as sgd.cu); at least one block for the scalar.
        launcher.launch("adjoint_step_f32", KernelProfile.Cost.floats(2L * n, 3L * n), step, Launcher.blocks((n + 3L) / 4, BLOCK, Launcher.MAX_BLOCKS), BLOCK,
                ptr(a), ptr(h), n, (float) alpha, ptr(s), s == null ? null : ptr(dAlpha));
    }
}
