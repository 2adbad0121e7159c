package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.BLOCK;
import static org.mkdt.backend.cuda.Kernels.plus;
import static org.mkdt.backend.cuda.Kernels.ptr;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.tensor.Tensor;

/**
 * kernels/conv2d.cu + kernels/gemm.cu: convolution as im2col + GEMM, in groups of G images so
 * that the column matrix stays within a fixed workspace.
 *
 * <p>For a group, col (Ci*Kh*Kw, G*Ho*Wo) holds the receptive fields (column = image, then
 * output position). Then
 * <ul>
 *   <li>forward: tmp (Co, G*P) = w (Co, CiKK) . col, and y (G, Co, P) = tmp rearranged + bias;</li>
 *   <li>data gradient: dyp (Co, G*P) = dy rearranged, dcol = w^T . dyp, dx = col2im(dcol)
 *       (a gather: every dx element sums its own window positions, no atomics);</li>
 *   <li>weight gradient: dw = sum over groups of dyp . col^T, a long-K product split into
 *       K slices per group; all partial products are added once at the end, in a fixed order.</li>
 * </ul>
 */
final class Conv2dKernel {
    /** Workspace cap per buffer (floats): 32 Mi floats = 128 MiB. */
    private static final long WORKSPACE = 32L << 20;
    /** Cap on split-K partial products of the weight gradient (floats). */
    private static final long PARTIALS = 64L << 20;

    private final Launcher launcher;
    private final GemmKernel gemm;
    private final CudaBackend backend;
    private final CUfunction im2col, col2im, cgpToGcp, gcpToCgp;

    Conv2dKernel(KernelModule m, Launcher launcher, GemmKernel gemm, CudaBackend backend) {
        this.launcher = launcher;
        this.gemm = gemm;
        this.backend = backend;
        im2col = m.function("im2col_f32");
        col2im = m.function("col2im_f32");
        cgpToGcp = m.function("cgp_to_gcp_f32");
        gcpToCgp = m.function("gcp_to_cgp_f32");
    }

    /** The sizes of one convolution. */
    private record Dims(int n, int ci, int h, int w, int co, int kh, int kw, int ho, int wo, int stride, int pad) {
        int p() {
            return ho * wo;
        }

        int rows() {
            return ci * kh * kw;
        }

        /** Images per group: the column matrix and the rearranged output each within the workspace. */
        int group() {
            long perImage = Math.max((long) rows() * p(), (long) co * p());
            return (int) Math.max(1, Math.min(n, WORKSPACE / Math.max(perImage, 1)));
        }

        Object[] im2colArgs(CUdeviceptr src, CUdeviceptr dst, int g) {
            return new Object[] {src, dst, g, ci, h, w, kh, kw, ho, wo, stride, pad};
        }
    }

    private static Dims dims(Tensor x, Tensor w, Tensor y, ConvGeometry geo) {
        return new Dims(x.shape().dim(0), x.shape().dim(1), x.shape().dim(2), x.shape().dim(3), w.shape().dim(0), w.shape().dim(2),
                w.shape().dim(3), y.shape().dim(2), y.shape().dim(3), geo.stride(), geo.padding());
    }

    private void launchIm2col(Dims d, CUdeviceptr x, CUdeviceptr col, int g) {
        launcher.launch("im2col_f32", im2col, Launcher.blocks((long) d.ci() * g * d.p(), BLOCK, Launcher.MAX_BLOCKS), BLOCK, d.im2colArgs(x, col, g));
    }

    /** dst (C, G*P) = src (G, C, P) rearranged. */
    private void launchGcpToCgp(CUdeviceptr src, CUdeviceptr dst, int g, int c, int p) {
        launcher.launch("gcp_to_cgp_f32", gcpToCgp, Launcher.blocks((long) g * c * p, BLOCK, Launcher.MAX_BLOCKS), BLOCK, src, dst, g, c, p);
    }

    /** y (N, Co, Ho, Wo) = conv(x (N, Ci, H, W), w (Co, Ci, Kh, Kw)) + bias (Co). */
    void forward(Tensor x, Tensor w, Tensor bias, ConvGeometry geo, Tensor y) {
        Dims d = dims(x, w, y, geo);
        int group = d.group();
        DeviceAllocator.Block col = backend.scratch((long) d.rows() * group * d.p() * Float.BYTES);
        DeviceAllocator.Block tmp = backend.scratch((long) d.co() * group * d.p() * Float.BYTES);
        try {
            for (int n0 = 0; n0 < d.n(); n0 += group) {
                int g = Math.min(group, d.n() - n0);
                launchIm2col(d, plus(ptr(x), (long) n0 * d.ci() * d.h() * d.w()), col.ptr(), g);
                gemm.run(gemm.defaultVersion(), d.co(), g * d.p(), d.rows(), ptr(w), d.rows(), false, col.ptr(), g * d.p(), false, tmp.ptr(), g * d.p(), 0f);
                launcher.launch("cgp_to_gcp_f32", cgpToGcp, Launcher.blocks((long) g * d.co() * d.p(), BLOCK, Launcher.MAX_BLOCKS), BLOCK,
                        tmp.ptr(), ptr(bias), plus(ptr(y), (long) n0 * d.co() * d.p()), g, d.co(), d.p());
            }
        } finally {
            backend.releaseScratch(col);
            backend.releaseScratch(tmp);
        }
    }

    /** dx (N, Ci, H, W) = transposed conv of dy (N, Co, Ho, Wo) with w (Co, Ci, Kh, Kw). */
    void dataGrad(Tensor dy, Tensor w, ConvGeometry geo, Tensor dx) {
        Dims d = dims(dx, w, dy, geo);
        int group = d.group();
        DeviceAllocator.Block dcol = backend.scratch((long) d.rows() * group * d.p() * Float.BYTES);
        DeviceAllocator.Block dyp = backend.scratch((long) d.co() * group * d.p() * Float.BYTES);
        try {
            for (int n0 = 0; n0 < d.n(); n0 += group) {
                int g = Math.min(group, d.n() - n0);
                launchGcpToCgp(plus(ptr(dy), (long) n0 * d.co() * d.p()), dyp.ptr(), g, d.co(), d.p());
                gemm.run(gemm.defaultVersion(), d.rows(), g * d.p(), d.co(), ptr(w), d.rows(), true, dyp.ptr(), g * d.p(), false, dcol.ptr(), g * d.p(), 0f);
                launcher.launch("col2im_f32", col2im, Launcher.blocks((long) g * d.ci() * d.h() * d.w(), BLOCK, Launcher.MAX_BLOCKS), BLOCK,
                        d.im2colArgs(dcol.ptr(), plus(ptr(dx), (long) n0 * d.ci() * d.h() * d.w()), g));
            }
        } finally {
            backend.releaseScratch(dcol);
            backend.releaseScratch(dyp);
        }
    }

    /** dw (Co, Ci, Kh, Kw) = correlation of x (N, Ci, H, W) with dy (N, Co, Ho, Wo), summed over N. */
    void weightGrad(Tensor x, Tensor dy, ConvGeometry geo, Tensor dw) {
        Dims d = dims(x, dw, dy, geo);
        int group = d.group();
        int groups = Launcher.ceilDiv(d.n(), group);
        long outLen = (long) d.co() * d.rows();
        boolean cublas = gemm.defaultVersion() == GemmKernel.Version.CUBLAS;
        // Split K = g*P of each group's product into slices; every slice of every group writes its
        // own partial product and one fixed-order sum makes dw.
        int splits = cublas ? 1 : GemmKernel.splits(d.co(), d.rows(), group * d.p());
        while (splits > 1 && (long) groups * splits * outLen > PARTIALS) splits--;
        boolean partial = cublas ? false : (groups * splits > 1);
        DeviceAllocator.Block col = backend.scratch((long) d.rows() * group * d.p() * Float.BYTES);
        DeviceAllocator.Block dyp = backend.scratch((long) d.co() * group * d.p() * Float.BYTES);
        DeviceAllocator.Block parts = partial ? backend.scratch((long) groups * splits * outLen * Float.BYTES) : null;
        try {
            for (int gi = 0; gi < groups; gi++) {
                int n0 = gi * group, g = Math.min(group, d.n() - n0);
                launchIm2col(d, plus(ptr(x), (long) n0 * d.ci() * d.h() * d.w()), col.ptr(), g);
                launchGcpToCgp(plus(ptr(dy), (long) n0 * d.co() * d.p()), dyp.ptr(), g, d.co(), d.p());
                int k = g * d.p();
                if (partial) {
                    gemm.tiledSplit(d.co(), d.rows(), k, dyp.ptr(), k, false, col.ptr(), k, true,
                            plus(parts.ptr(), (long) gi * splits * outLen), d.rows(), splits, outLen);
                } else {
                    gemm.run(gemm.defaultVersion(), d.co(), d.rows(), k, dyp.ptr(), k, false, col.ptr(), k, true, ptr(dw), d.rows(), gi == 0 ? 0f : 1f);
                }
            }
            if (partial) backend.reduce.sumSlices(parts.ptr(), groups * splits, (int) outLen, ptr(dw));
        } finally {
            backend.releaseScratch(col);
            backend.releaseScratch(dyp);
            if (parts != null) backend.releaseScratch(parts);
        }
    }
}
