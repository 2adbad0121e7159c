package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.BLOCK;
import static org.mkdt.backend.cuda.Kernels.ptr;

import jcuda.driver.CUfunction;
import org.mkdt.tensor.Tensor;

/** kernels/relupool2.cu: per-plane affine + ReLU fused with 2x2 mean pooling, and its adjoint; the same bits as the CPU. */
final class ReluPool2Kernel {
    private final Launcher launcher;
    private final CUfunction forward, backward, backwardAffine;

    ReluPool2Kernel(KernelModule m, Launcher launcher) {
        this.launcher = launcher;
        forward = m.function("relupool2_forward_f32");
        backward = m.function("relupool2_backward_f32");
        backwardAffine = m.function("relupool2_backward_affine_f32");
    }

    /** out (N, C, H/2, W/2) = avgPool2(v * [z > 0]), z = x * scale + shift per plane (or x), v = u (or z when u is null). */
    void forward(Tensor u, Tensor x, Tensor scale, Tensor shift, Tensor out) {
        requireEven(x);
        int planes = x.shape().dim(0) * x.shape().dim(1), h = x.shape().dim(2), w = x.shape().dim(3);
        launcher.launch("relupool2_forward_f32", KernelProfile.Cost.floats(12L * out.numel(), (u == null ? 4L : 8L) * out.numel() + out.numel()), forward, Launcher.blocks(out.numel(), BLOCK, Launcher.MAX_BLOCKS), BLOCK,
                ptr(u), ptr(x), ptr(scale), ptr(shift), ptr(out), planes, h, w);
    }

    /** dx (N, C, H, W) = [z > 0] * avgPool2Grad(dy (N, C, H/2, W/2)). */
    void backward(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx) {
        requireEven(x);
        int planes = dx.shape().dim(0) * dx.shape().dim(1), h = dx.shape().dim(2), w = dx.shape().dim(3);
        launcher.launch("relupool2_backward_f32", KernelProfile.Cost.floats(12L * dy.numel(), 9L * dy.numel()), backward, Launcher.blocks(dy.numel(), BLOCK, Launcher.MAX_BLOCKS), BLOCK,
                ptr(dy), ptr(x), ptr(scale), ptr(shift), ptr(dx), planes, h, w);
    }

    /** dx = r * scale, dscale = sum of r * x, dshift = sum of r per plane, r = [z > 0] * avgPool2Grad(dy): one pass, one block per plane. */
    void backwardAffine(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx, Tensor dscale, Tensor dshift) {
        requireEven(x);
        int planes = dx.shape().dim(0) * dx.shape().dim(1), h = dx.shape().dim(2), w = dx.shape().dim(3);
        if (planes == 0) return;
        long n = dx.numel();
        launcher.launch("relupool2_backward_affine_f32", KernelProfile.Cost.floats(4L * n, dy.numel() + 2L * n + 4L * planes), backwardAffine, planes, BLOCK,
                ptr(dy), ptr(x), ptr(scale), ptr(shift), ptr(dx), ptr(dscale), ptr(dshift), planes, h, w);
    }

    /** The kernels index windows as 2x2 blocks of an H x W plane: odd sizes would be misread, not refused. */
    private static void requireEven(Tensor x) {
        if (x.shape().dim(2) % 2 != 0 || x.shape().dim(3) % 2 != 0) {
            throw new IllegalArgumentException("reluPool2: height and width must be even, x has shape " + x.shape());
        }
    }
}
