package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.BLOCK;
import static org.mkdt.backend.cuda.Kernels.ptr;

import jcuda.driver.CUfunction;
import org.mkdt.tensor.Tensor;

/** kernels/avgpool2.cu: 2x2 mean pooling, stride 2, and its adjoint. */
final class AvgPool2Kernel {
    private final Launcher launcher;
    private final CUfunction forward, backward;

    AvgPool2Kernel(KernelModule m, Launcher launcher) {
        this.launcher = launcher;
        forward = m.function("avgpool2_forward_f32");
        backward = m.function("avgpool2_backward_f32");
    }

    /** x (N, C, H, W) -> y (N, C, H/2, W/2). */
    void forward(Tensor x, Tensor y) {
        int planes = x.shape().dim(0) * x.shape().dim(1), h = x.shape().dim(2), w = x.shape().dim(3);
        launcher.launch("avgpool2_forward_f32", KernelProfile.Cost.floats(4L * y.numel(), 5L * y.numel()), forward, Launcher.blocks(y.numel(), BLOCK, Launcher.MAX_BLOCKS), BLOCK, ptr(x), ptr(y), planes, h, w);
    }

    /** dy (N, C, H/2, W/2) -> dx (N, C, H, W). */
    void backward(Tensor dy, Tensor dx) {
        int planes = dx.shape().dim(0) * dx.shape().dim(1), h = dx.shape().dim(2), w = dx.shape().dim(3);
        launcher.launch("avgpool2_backward_f32", KernelProfile.Cost.floats(dx.numel(), dx.numel() + dy.numel()), backward, Launcher.blocks(dx.numel(), BLOCK, Launcher.MAX_BLOCKS), BLOCK, ptr(dy), ptr(dx), planes, h, w);
    }
}
