package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.BLOCK;
import static org.mkdt.backend.cuda.Kernels.plus;
import static org.mkdt.backend.cuda.Kernels.ptr;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.tensor.Tensor;

/**
 * The convolution's three products, by one of two algorithms ({@link ConvAlgorithm}).
 *
 * <p><b>Implicit GEMM</b> (kernels/conv2d_igemm.cu, the default): one launch per product and
 * per chunk of at most 65535 students, over all N images at once: the tiled GEMM reads its
 * operand tiles straight from the NCHW tensors and writes NCHW, so there is no column matrix,
 * no permutation and no workspace. The weight gradient's long K (N*Ho*Wo) is split into slices
 * as the tiled GEMM's is, and the slices are added by the same fixed-order sum. Covered: any
 * size whose per-student tensors stay below 2^31 floats and whose image sides stay below 2^14;
 * the data gradient at stride 1. Anything else runs by im2col, below.
 *
 * <p><b>im2col + GEMM</b> (kernels/conv2d.cu + kernels/gemm.cu), in groups of G images so that
 * the column matrix stays within a fixed workspace.
 *
 * <p>For a group, col (Ci*Kh*Kw, G*Ho*Wo) holds the receptive fields (column = image, then
 * output position). Then
 * <ul>
 *   <li>forward: tmp (Co, G*P) = w (Co, CiKK) . col, and y (G, Co, P) = tmp rearranged + bias;</li>
 *   <li>data gradient: dyp (Co, G*P) = dy rearranged, dcol = w^T . dyp, dx = col2im(dcol)
 *       (a gather: every dx element sums its own window positions, no atomics);</li>
 *   <li>weight gradient: dw = sum over groups of dyp . col^T, a long-K product split into
 *       K slices per group; all partial products are added once at the end, in a fixed order.
 *       Without a split (one slice per group), each group's product is added onto dw by the
 *       GEMM itself (beta 1): the same sum in the same order as summing per-group partials
 *       (up to the sign of an exact zero), without the partials' memory or the extra launch.</li>
 * </ul>
 *
 * <p>Batched students (x (S, N, Ci, H, W), w (S, Co, Ci, Kh, Kw), ...): a pass takes G images of
 * each of several students at once. The temporaries hold one block per student (student s's
 * col at col + s * R*G*P), the layout kernels take the student on gridDim.y with per-student
 * strides, and each GEMM is one batched launch over the students. So a pass is the same three
 * or four launches whatever the number of students. The trade-off is the bounded workspace:
 * it holds the columns of F images (F = workspace / floats per image, 28 for the MKDT
 * student's 128-channel 32x32 layers), shared by the students of a pass, so with S students
 * each gets G = F / S images and there are ceil(N / G) passes. Launches per op thus grow like
 * S * N / F, as for one student with S * N images: one pass whenever all S * N images fit,
 * and never a pass per student unless a single image fills the workspace. With S > F the
 * students are taken F at a time with G = 1, so the workspace never passes its cap (beyond
 * the one image that always fits, as before batching).
 *
 * <p>Results: the forward and the data gradient compute every output element with the same
 * sums as the unbatched call on the student's slices (the GEMM's K is Ci*Kh*Kw or Co, never
 * split, and col2im gathers in a fixed order), so with the tiled GEMM a batched call has the
 * same bits as S unbatched ones. The weight gradient sums over images in groups and slices
 * whose sizes depend on S, so it agrees with the unbatched call within float32 rounding of a
 * sum over N*Ho*Wo terms: deterministic, but not the same bits.
 */
final class Conv2dKernel {
    /** Workspace cap per buffer (floats): 32 Mi floats = 128 MiB. */
    static final long WORKSPACE = 32L << 20;
    /** Cap on split-K partial products of the weight gradient (floats). */
    private static final long PARTIALS = 64L << 20;

    private final Launcher launcher;
    private final GemmKernel gemm;
    private final CudaBackend backend;
    private final CUfunction im2col, col2im, cgpToGcp, gcpToCgp;
    /** [precision]: the implicit-GEMM entry points at each of the tile's precisions. */
    private final KernelModule.Entry[] implicitForward, implicitDataGrad, implicitWeightGrad;
    private volatile long workspace = WORKSPACE;
    private volatile ConvAlgorithm algorithm = ConvAlgorithm.fromEnvironment(System.getenv("MKDT_CUDA_CONV"));

    Conv2dKernel(KernelModule m, KernelModule implicit, Launcher launcher, GemmKernel gemm, CudaBackend backend) {
        this.launcher = launcher;
        this.gemm = gemm;
        this.backend = backend;
        im2col = m.function("im2col_f32");
        col2im = m.function("col2im_f32");
        cgpToGcp = m.function("cgp_to_gcp_f32");
        gcpToCgp = m.function("gcp_to_cgp_f32");
        int n = Precision.values().length;
        implicitForward = new KernelModule.Entry[n];
        implicitDataGrad = new KernelModule.Entry[n];
        implicitWeightGrad = new KernelModule.Entry[n];
        for (Precision p : Precision.values()) {
            implicitForward[p.ordinal()] = implicit.entry("conv_igemm_forward_" + p.suffix());
            implicitDataGrad[p.ordinal()] = implicit.entry("conv_igemm_data_grad_" + p.suffix());
            implicitWeightGrad[p.ordinal()] = implicit.entry("conv_igemm_weight_grad_" + p.suffix());
        }
    }

    ConvAlgorithm algorithm() {
        return algorithm;
    }

    ConvAlgorithm algorithm(ConvAlgorithm a) {
        ConvAlgorithm old = algorithm;
        algorithm = java.util.Objects.requireNonNull(a, "algorithm");
        return old;
    }

    /**
     * Sets the workspace cap per buffer (floats) and returns the previous one. Tests shrink it
     * to make small convolutions take many passes; everything else keeps {@link #WORKSPACE}.
     */
    long workspace(long floats) {
        if (floats < 1) throw new IllegalArgumentException("workspace " + floats);
        long old = workspace;
        workspace = floats;
        return old;
    }

    /** The sizes of one convolution; s students (1 when unbatched). */
    private record Dims(int s, int n, int ci, int h, int w, int co, int kh, int kw, int ho, int wo, int stride, int pad) {
        int p() {
            return ho * wo;
        }

        int rows() {
            return ci * kh * kw;
        }

        /** Floats one image needs in each workspace buffer: its columns, or its rearranged output. */
        long perImage() {
            return Math.max((long) rows() * p(), (long) co * p());
        }

        long imageX() {
            return (long) ci * h * w;
        }

        long imageY() {
            return (long) co * p();
        }

        /** Per-student strides of x (and dx), y (and dy), w (and dw). */
        long studentX() {
            return n * imageX();
        }

        long studentY() {
            return n * imageY();
        }

        long studentW() {
            return (long) co * rows();
        }

        /**
         * Whether kernels/conv2d_igemm.cu covers these sizes: its offsets within a student are
         * 32-bit, its image sides and tap offsets 16-bit (packed two to a register), and the
         * output channels of the forward pass (input channels of the data gradient) are
         * gridDim.y tiles of 128.
         */
        boolean implicitFits() {
            long side = 1 << 14;
            return studentX() < Integer.MAX_VALUE && studentY() < Integer.MAX_VALUE && (long) n * p() < Integer.MAX_VALUE
                    && studentW() < Integer.MAX_VALUE && h < side && w < side && ho < side && wo < side
                    && (long) ho * stride + kh < side && (long) wo * stride + kw < side && pad < side && kh < side && kw < side
                    && Launcher.ceilDiv(Math.max(ci, co), GemmKernel.TILE) <= Launcher.MAX_GRID_YZ;
        }
    }

    /** A pass: {@code students} students at a time (gridDim.y), {@code group} images of each. */
    record Plan(int students, int group) {}

    /**
     * The passes for {@code students} students of {@code images} images each, when one image
     * needs {@code perImage} floats of a workspace of {@code workspace} floats: as many images
     * as fit, shared evenly among as many students as possible (all of them when each can have
     * at least one image), at most 65535 students (gridDim.y).
     */
    static Plan plan(int students, int images, long perImage, long workspace) {
        long fit = Math.max(1, workspace / Math.max(perImage, 1));
        int together = (int) Math.max(1, Math.min(Math.min(students, fit), Launcher.MAX_GRID_YZ));
        int group = (int) Math.max(1, Math.min(images, fit / together));
        return new Plan(together, group);
    }

    private static Dims dims(Tensor x, Tensor w, Tensor y, ConvGeometry geo) {
        int o = x.shape().rank() - 4; // 1 when batched: the student axis comes first
        int s = o == 1 ? x.shape().dim(0) : 1;
        return new Dims(s, x.shape().dim(o), x.shape().dim(o + 1), x.shape().dim(o + 2), x.shape().dim(o + 3), w.shape().dim(o),
                w.shape().dim(o + 2), w.shape().dim(o + 3), y.shape().dim(o + 2), y.shape().dim(o + 3), geo.stride(), geo.padding());
    }

    /** col (students blocks of (R, g*P), colStride apart) = im2col of g images of each student. */
    private void launchIm2col(Dims d, CUdeviceptr x, CUdeviceptr col, int students, int g, long colStride) {
        launcher.launchGrid("im2col_f32", KernelProfile.Cost.floats(0, (long) students * g * ((long) d.rows() * d.p() + d.imageX())), im2col, Launcher.blocks((long) d.ci() * g * d.p(), BLOCK, Launcher.MAX_BLOCKS), students, 1, BLOCK, 1, 0,
                x, col, g, d.ci(), d.h(), d.w(), d.kh(), d.kw(), d.ho(), d.wo(), d.stride(), d.pad(), d.studentX(), colStride);
    }

    /** dst (C, g*P) per student, dstStride apart = src (g, C, P) per student, srcStride apart, rearranged. */
    private void launchGcpToCgp(CUdeviceptr src, CUdeviceptr dst, int students, int g, int c, int p, long srcStride, long dstStride) {
        launcher.launchGrid("gcp_to_cgp_f32", KernelProfile.Cost.floats(0, 2L * students * g * c * p), gcpToCgp, Launcher.blocks((long) g * c * p, BLOCK, Launcher.MAX_BLOCKS), students, 1, BLOCK, 1, 0,
                src, dst, g, c, p, srcStride, dstStride);
    }

    /** y (N, Co, Ho, Wo) = conv(x (N, Ci, H, W), w (Co, Ci, Kh, Kw)) + bias (Co); batched with a leading S on each. */
    void forward(Tensor x, Tensor w, Tensor bias, ConvGeometry geo, Tensor y) {
        Dims d = dims(x, w, y, geo);
        if (d.s() == 0 || d.n() == 0) return;
        if (algorithm == ConvAlgorithm.IMPLICIT && d.implicitFits()) {
            implicitForward(d, ptr(x), ptr(w), bias == null ? null : ptr(bias), ptr(y));
            return;
        }
        Plan plan = plan(d.s(), d.n(), d.perImage(), workspace);
        long images = (long) plan.students() * plan.group();
        DeviceAllocator.Block col = backend.scratch(images * d.rows() * d.p() * Float.BYTES);
        DeviceAllocator.Block tmp = backend.scratch(images * d.imageY() * Float.BYTES);
        try {
            for (int s0 = 0; s0 < d.s(); s0 += plan.students()) {
                int ns = Math.min(plan.students(), d.s() - s0);
                for (int n0 = 0; n0 < d.n(); n0 += plan.group()) {
                    int g = Math.min(plan.group(), d.n() - n0);
                    int q = g * d.p();
                    long colLen = (long) d.rows() * q, outLen = (long) d.co() * q;
                    launchIm2col(d, plus(ptr(x), s0 * d.studentX() + n0 * d.imageX()), col.ptr(), ns, g, colLen);
                    gemm.run(gemm.defaultVersion(), new GemmKernel.Batch(ns, d.studentW(), colLen, outLen), d.co(), q, d.rows(),
                            plus(ptr(w), s0 * d.studentW()), d.rows(), false, col.ptr(), q, false, tmp.ptr(), q, 0f);
                    launcher.launchGrid("cgp_to_gcp_f32", KernelProfile.Cost.floats(bias == null ? 0 : outLen * ns, 2L * ns * outLen), cgpToGcp, Launcher.blocks((long) g * d.co() * d.p(), BLOCK, Launcher.MAX_BLOCKS), ns, 1, BLOCK, 1, 0,
                            tmp.ptr(), bias == null ? null : plus(ptr(bias), (long) s0 * d.co()), plus(ptr(y), s0 * d.studentY() + n0 * d.imageY()),
                            g, d.co(), d.p(), outLen, (long) d.co(), d.studentY());
                }
            }
        } finally {
            backend.releaseScratch(col);
            backend.releaseScratch(tmp);
        }
    }

    /** dx (N, Ci, H, W) = transposed conv of dy (N, Co, Ho, Wo) with w (Co, Ci, Kh, Kw); batched with a leading S on each. */
    void dataGrad(Tensor dy, Tensor w, ConvGeometry geo, Tensor dx) {
        Dims d = dims(dx, w, dy, geo);
        if (d.s() == 0 || d.n() == 0) return;
        if (algorithm == ConvAlgorithm.IMPLICIT && d.stride() == 1 && d.implicitFits()) {
            implicitDataGrad(d, ptr(dy), ptr(w), ptr(dx));
            return;
        }
        Plan plan = plan(d.s(), d.n(), d.perImage(), workspace);
        long images = (long) plan.students() * plan.group();
        DeviceAllocator.Block dcol = backend.scratch(images * d.rows() * d.p() * Float.BYTES);
        DeviceAllocator.Block dyp = backend.scratch(images * d.imageY() * Float.BYTES);
        try {
            for (int s0 = 0; s0 < d.s(); s0 += plan.students()) {
                int ns = Math.min(plan.students(), d.s() - s0);
                for (int n0 = 0; n0 < d.n(); n0 += plan.group()) {
                    int g = Math.min(plan.group(), d.n() - n0);
                    int q = g * d.p();
                    long colLen = (long) d.rows() * q, dypLen = (long) d.co() * q;
                    launchGcpToCgp(plus(ptr(dy), s0 * d.studentY() + n0 * d.imageY()), dyp.ptr(), ns, g, d.co(), d.p(), d.studentY(), dypLen);
                    gemm.run(gemm.defaultVersion(), new GemmKernel.Batch(ns, d.studentW(), dypLen, colLen), d.rows(), q, d.co(),
                            plus(ptr(w), s0 * d.studentW()), d.rows(), true, dyp.ptr(), q, false, dcol.ptr(), q, 0f);
                    launcher.launchGrid("col2im_f32", KernelProfile.Cost.floats(colLen * ns, ns * (colLen + (long) g * d.imageX())), col2im, Launcher.blocks((long) g * d.imageX(), BLOCK, Launcher.MAX_BLOCKS), ns, 1, BLOCK, 1, 0,
                            dcol.ptr(), plus(ptr(dx), s0 * d.studentX() + n0 * d.imageX()), g, d.ci(), d.h(), d.w(), d.kh(), d.kw(), d.ho(), d.wo(),
                            d.stride(), d.pad(), colLen, d.studentX());
                }
            }
        } finally {
            backend.releaseScratch(dcol);
            backend.releaseScratch(dyp);
        }
    }

    // ---- implicit GEMM (kernels/conv2d_igemm.cu) -------------------------------------------------

    /** Block tiles along a GEMM dimension of {@code n} < 2^31 (no int overflow near the limit). */
    private static int tiles(long n) {
        return (int) ((n + GemmKernel.TILE - 1) / GemmKernel.TILE);
    }

    /** y = conv(x, w) + bias for all images of each student, one launch per 65535 students. */
    private void implicitForward(Dims d, CUdeviceptr x, CUdeviceptr w, CUdeviceptr bias, CUdeviceptr y) {
        Precision p = gemm.precision();
        long q = (long) d.n() * d.p();
        for (int s0 = 0; s0 < d.s(); s0 += Launcher.MAX_GRID_YZ) {
            int ns = Math.min(Launcher.MAX_GRID_YZ, d.s() - s0);
            KernelProfile.Cost cost = KernelProfile.Cost.floats(2L * ns * d.co() * q * d.rows(),
                    ns * (d.studentX() + d.studentW() + d.studentY() + (bias == null ? 0 : d.co())));
            launcher.launchGrid(implicitForward[p.ordinal()].name(), cost, implicitForward[p.ordinal()].function(), tiles(q),
                    Launcher.ceilDiv(d.co(), GemmKernel.TILE), ns, 256, 1, 0,
                    plus(x, s0 * d.studentX()), plus(w, s0 * d.studentW()), bias == null ? null : plus(bias, (long) s0 * d.co()),
                    plus(y, s0 * d.studentY()), d.n(), d.ci(), d.h(), d.w(), d.co(), d.kh(), d.kw(), d.ho(), d.wo(), d.stride(), d.pad(),
                    d.studentX(), d.studentW(), d.studentY());
        }
    }

    /** dx = the transposed convolution of dy with w (stride 1), one launch per 65535 students. */
    private void implicitDataGrad(Dims d, CUdeviceptr dy, CUdeviceptr w, CUdeviceptr dx) {
        Precision p = gemm.precision();
        long q = (long) d.n() * d.h() * d.w();
        for (int s0 = 0; s0 < d.s(); s0 += Launcher.MAX_GRID_YZ) {
            int ns = Math.min(Launcher.MAX_GRID_YZ, d.s() - s0);
            KernelProfile.Cost cost = KernelProfile.Cost.floats(2L * ns * d.ci() * q * d.co() * d.kh() * d.kw(),
                    ns * (d.studentY() + d.studentW() + d.studentX()));
            launcher.launchGrid(implicitDataGrad[p.ordinal()].name(), cost, implicitDataGrad[p.ordinal()].function(), tiles(q),
                    Launcher.ceilDiv(d.ci(), GemmKernel.TILE), ns, 256, 1, 0,
                    plus(dy, s0 * d.studentY()), plus(w, s0 * d.studentW()), plus(dx, s0 * d.studentX()),
                    d.n(), d.ci(), d.h(), d.w(), d.co(), d.kh(), d.kw(), d.ho(), d.wo(), d.pad(),
                    d.studentY(), d.studentW(), d.studentX());
        }
    }

    /**
     * dw = sum over all images of dy (x) the receptive fields: K = N*Ho*Wo split into slices when
     * the output has few tiles (GemmKernel.splits), the slices of a pass's students laid out
     * (slice, student) and added in slice order by one fixed-order sum; one slice writes dw itself.
     */
    private void implicitWeightGrad(Dims d, CUdeviceptr x, CUdeviceptr dy, CUdeviceptr dw) {
        Precision p = gemm.precision();
        int k = d.n() * d.p();
        long outLen = d.studentW();
        int together = (int) Math.min(d.s(), Launcher.MAX_GRID_YZ);
        int splits = weightGradSplits(together, d.co(), d.rows(), k, 1, PARTIALS);
        int per = GemmKernel.studentsPerLaunch(together, splits);
        if (splits > 1) per = (int) Math.max(1, Math.min(per, PARTIALS / ((long) splits * outLen)));
        int kChunk = splits == 1 ? k : Launcher.ceilDiv(k, splits);
        DeviceAllocator.Block parts = splits > 1 ? backend.scratch((long) splits * per * outLen * Float.BYTES) : null;
        try {
            for (int s0 = 0; s0 < d.s(); s0 += per) {
                int ns = Math.min(per, d.s() - s0);
                int bits = GemmKernel.splitBits(ns, splits);
                CUdeviceptr dws = plus(dw, s0 * outLen);
                KernelProfile.Cost cost = KernelProfile.Cost.floats(2L * ns * outLen * k, ns * (d.studentX() + d.studentY() + splits * outLen));
                // Slice z of student s at (z * ns + s) * outLen: the layout sumSlices adds over z.
                launcher.launchGrid(implicitWeightGrad[p.ordinal()].name(), cost, implicitWeightGrad[p.ordinal()].function(), Launcher.ceilDiv(d.rows(), GemmKernel.TILE),
                        Launcher.ceilDiv(d.co(), GemmKernel.TILE), ns * splits, 256, 1, 0,
                        plus(x, s0 * d.studentX()), plus(dy, s0 * d.studentY()), splits > 1 ? parts.ptr() : dws,
                        d.n(), d.ci(), d.h(), d.w(), d.co(), d.kh(), d.kw(), d.ho(), d.wo(), d.stride(), d.pad(),
                        kChunk, splits > 1 ? ns * outLen : 0L, bits, d.studentX(), d.studentY(), outLen);
                if (splits > 1) backend.reduce.sumSlices(parts.ptr(), splits, (int) (ns * outLen), dws);
            }
        } finally {
            if (parts != null) backend.releaseScratch(parts);
        }
    }

    /**
     * K slices per group of the weight gradient's product (Co, R) = dyp (Co, g*P) . col^T, for
     * {@code students} students at a time and {@code groups} groups, such that all partial
     * products fit in {@code partialsCap} floats; 1 means no partials (beta accumulation).
     */
    static int weightGradSplits(int students, int co, int rows, int k, int groups, long partialsCap) {
        int splits = GemmKernel.splits(students, co, rows, k);
        long outLen = (long) co * rows;
        // Halving keeps a batch's count a power of two (GemmKernel.splitBits).
        while (splits > 1 && (long) groups * splits * students * outLen > partialsCap) splits = students == 1 ? splits - 1 : splits / 2;
        return splits;
    }

    /** dw (Co, Ci, Kh, Kw) = correlation of x (N, Ci, H, W) with dy (N, Co, Ho, Wo), summed over N; batched with a leading S on each. */
    void weightGrad(Tensor x, Tensor dy, ConvGeometry geo, Tensor dw) {
        Dims d = dims(x, dw, dy, geo);
        if (d.s() == 0) return;
        if (d.n() == 0) { // an empty sum
            backend.fill(dw, 0);
            return;
        }
        if (algorithm == ConvAlgorithm.IMPLICIT && d.implicitFits()) {
            implicitWeightGrad(d, ptr(x), ptr(dy), ptr(dw));
            return;
        }
        Plan plan = plan(d.s(), d.n(), d.perImage(), workspace);
        int groups = Launcher.ceilDiv(d.n(), plan.group());
        long outLen = d.studentW();
        boolean cublas = gemm.defaultVersion() == GemmKernel.Version.CUBLAS;
        // Split K = g*P of each group's product into slices; every slice of every group of every
        // student writes its own partial product, laid out (group, slice, student) so that one
        // fixed-order sum over group and slice makes dw for all the pass's students at once.
        int splits = cublas ? 1 : weightGradSplits(plan.students(), d.co(), d.rows(), plan.group() * d.p(), groups, PARTIALS);
        boolean partial = splits > 1;
        long images = (long) plan.students() * plan.group();
        DeviceAllocator.Block col = backend.scratch(images * d.rows() * d.p() * Float.BYTES);
        DeviceAllocator.Block dyp = backend.scratch(images * d.imageY() * Float.BYTES);
        DeviceAllocator.Block parts = partial ? backend.scratch((long) groups * splits * plan.students() * outLen * Float.BYTES) : null;
        try {
            for (int s0 = 0; s0 < d.s(); s0 += plan.students()) {
                int ns = Math.min(plan.students(), d.s() - s0);
                CUdeviceptr dws = plus(ptr(dw), s0 * outLen);
                for (int gi = 0; gi < groups; gi++) {
                    int n0 = gi * plan.group(), g = Math.min(plan.group(), d.n() - n0);
                    int k = g * d.p();
                    long colLen = (long) d.rows() * k, dypLen = (long) d.co() * k;
                    launchIm2col(d, plus(ptr(x), s0 * d.studentX() + n0 * d.imageX()), col.ptr(), ns, g, colLen);
                    launchGcpToCgp(plus(ptr(dy), s0 * d.studentY() + n0 * d.imageY()), dyp.ptr(), ns, g, d.co(), d.p(), d.studentY(), dypLen);
                    GemmKernel.Batch batch = new GemmKernel.Batch(ns, dypLen, colLen, outLen);
                    if (partial) {
                        // Partial (gi, z, s) at ((gi * splits + z) * ns + s) * outLen.
                        gemm.tiledSplit(batch, d.co(), d.rows(), k, dyp.ptr(), k, false, col.ptr(), k, true,
                                plus(parts.ptr(), (long) gi * splits * ns * outLen), d.rows(), splits, ns * outLen);
                    } else {
                        gemm.run(gemm.defaultVersion(), batch, d.co(), d.rows(), k, dyp.ptr(), k, false, col.ptr(), k, true, dws, d.rows(), gi == 0 ? 0f : 1f);
                    }
                }
                if (partial) backend.reduce.sumSlices(parts.ptr(), groups * splits, (int) (ns * outLen), dws);
            }
        } finally {
            backend.releaseScratch(col);
            backend.releaseScratch(dyp);
            if (parts != null) backend.releaseScratch(parts);
        }
    }
}
