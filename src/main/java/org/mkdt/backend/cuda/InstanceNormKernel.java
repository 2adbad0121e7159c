package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.BLOCK;
import static org.mkdt.backend.cuda.Kernels.ptr;

import jcuda.driver.CUfunction;
import org.mkdt.tensor.Tensor;

/** kernels/instancenorm.cu: fused instance norm, its gradient and its second-order term; one block per (n, c) plane. */
final class InstanceNormKernel {
    private final Launcher launcher;
    private final CUfunction forward, backward, gradGrad;

    InstanceNormKernel(KernelModule m, Launcher launcher) {
        this.launcher = launcher;
        forward = m.function("instancenorm_forward_f32");
        backward = m.function("instancenorm_backward_f32");
        gradGrad = m.function("instancenorm_gradgrad_f32");
    }

    private static int planes(Tensor x) {
        return x.shape().dim(0) * x.shape().dim(1);
    }

    private static int planeSize(Tensor x) {
        return x.numel() / planes(x);
    }

    /** x (N, C, H, W) -> xhat (N, C, H, W), rstd (N, C, 1, 1). */
    void forward(Tensor x, double eps, Tensor xhat, Tensor rstd) {
        launcher.launch("instancenorm_forward_f32", KernelProfile.Cost.floats(6L * x.numel(), 2L * x.numel() + planes(x)), forward, planes(x), BLOCK, ptr(x), ptr(xhat), ptr(rstd), planes(x), planeSize(x), (float) eps);
    }

    void backward(Tensor g, Tensor xhat, Tensor rstd, Tensor dx) {
        launcher.launch("instancenorm_backward_f32", KernelProfile.Cost.floats(8L * g.numel(), 3L * g.numel() + planes(g)), backward, planes(g), BLOCK, ptr(g), ptr(xhat), ptr(rstd), ptr(dx), planes(g), planeSize(g));
    }

    void gradGrad(Tensor u, Tensor g, Tensor xhat, Tensor rstd, Tensor out) {
        launcher.launch("instancenorm_gradgrad_f32", KernelProfile.Cost.floats(12L * u.numel(), 4L * u.numel() + planes(u)), gradGrad, planes(u), BLOCK, ptr(u), ptr(g), ptr(xhat), ptr(rstd), ptr(out), planes(u), planeSize(u));
    }
}
