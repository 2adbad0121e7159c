package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.BLOCK;
import static org.mkdt.backend.cuda.Kernels.ptr;

import jcuda.driver.CUfunction;
import org.mkdt.tensor.Tensor;

/** kernels/sgd.cu: the fused SGD update (momentum, weight decay) of a flat parameter vector. */
final class SgdKernel {
    private final Launcher launcher;
    private final CUfunction step;

    SgdKernel(KernelModule m, Launcher launcher) {
        this.launcher = launcher;
        step = m.function("sgd_step_f32");
    }

    void step(Tensor theta, Tensor grad, Tensor buf, double lr, double momentum, double weightDecay, boolean firstStep) {
        int n = theta.numel();
        launcher.launch("sgd_step_f32", KernelProfile.Cost.floats(5L * n, 5L * n), step, Launcher.blocks(n, BLOCK, Launcher.MAX_BLOCKS), BLOCK, ptr(theta), ptr(grad), ptr(buf), n,
                (float) lr, (float) momentum, (float) weightDecay, firstStep ? 1 : 0);
    }
}
