package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.BLOCK;
import static org.mkdt.backend.cuda.Kernels.ptr;

import jcuda.driver.CUfunction;
import org.mkdt.tensor.Tensor;

/** kernels/relupool2.cu: ReLU fused with 2x2 mean pooling, and its adjoint in u; the same bits as the CPU. */
final class ReluPool2Kernel {
    private final Launcher launcher;
    private final CUfunction forward, backward;

    ReluPool2Kernel(KernelModule m, Launcher launcher) {
        this.launcher = launcher;
        forward = m.function("relupool2_forward_f32");
        backward = m.function("relupool2_backward_f32");
    }

    /** out (N, C, H/2, W/2) = avgPool2(u * [z > 0]), u and z (N, C, H, W) (may be the same tensor). */
    void forward(Tensor u, Tensor z, Tensor out) {
        int planes = u.shape().dim(0) * u.shape().dim(1), h = u.shape().dim(2), w = u.shape().dim(3);
        launcher.launch("relupool2_forward_f32", forward, Launcher.blocks(out.numel(), BLOCK, Launcher.MAX_BLOCKS), BLOCK,
                ptr(u), ptr(z), ptr(out), planes, h, w);
    }

    /** dx (N, C, H, W) = [z > 0] * avgPool2Grad(dy (N, C, H/2, W/2)). */
    void backward(Tensor dy, Tensor z, Tensor dx) {
        int planes = dx.shape().dim(0) * dx.shape().dim(1), h = dx.shape().dim(2), w = dx.shape().dim(3);
        launcher.launch("relupool2_backward_f32", backward, Launcher.blocks(dy.numel(), BLOCK, Launcher.MAX_BLOCKS), BLOCK,
                ptr(dy), ptr(z), ptr(dx), planes, h, w);
    }
}
