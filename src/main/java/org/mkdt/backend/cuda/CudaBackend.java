package org.mkdt.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static org.mkdt.backend.cuda.Kernels.ptr;

import jcuda.Pointer;
import org.mkdt.backend.Backend;
import org.mkdt.backend.BinaryOp;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.backend.UnaryOp;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.MemoryStats;
import org.mkdt.tensor.Storage;
import org.mkdt.tensor.Tensor;

/**
 * The CUDA backend: the same primitive set as the CPU backend, in float32, on device 0 through
 * JCuda's driver API. Each primitive delegates to the kernel class of the same name stem, which
 * launches the hand-written kernels of kernels/STEM.cu through the one {@link Launcher}. All
 * work is queued in order on one stream; only downloads wait for it.
 *
 * <p>cuBLAS, where its library loads, may replace the hand-written GEMM (see {@link Cublas});
 * everything else is always the project's own kernels.
 */
public final class CudaBackend implements Backend {
    static final String F32_ONLY = "the CUDA backend computes in float32 (float64 tensors are the CPU's, for gradient checks)";

    /** The kernel families (kernels/STEM.cu), each loaded as one module. */
    public static final java.util.List<String> KERNEL_FAMILIES =
            java.util.List.of("elementwise", "reduce", "gemm", "conv2d", "conv2d_igemm", "avgpool2", "relupool2", "rows", "sgd", "adjoint", "instancenorm");

    private static CudaBackend instance;

    private final CudaDevice device;
    private final MemoryStats memory = new MemoryStats();
    private final DeviceAllocator allocator;
    private final Cublas cublas;
    final ElementwiseKernel elementwise;
    final ReduceKernel reduce;
    final GemmKernel gemm;
    final Conv2dKernel conv2d;
    final AvgPool2Kernel avgPool2;
    private final Launcher launcher;
    final ReluPool2Kernel reluPool2;
    final RowsKernel rows;
    final SgdKernel sgd;
    final AdjointKernel adjoint;
    final InstanceNormKernel instanceNorm;

    private CudaBackend(CudaDevice device) {
        this.device = device;
        device.makeCurrent();
        allocator = new DeviceAllocator(device);
        launcher = new Launcher(device);
        cublas = Cublas.probe(device);
        elementwise = new ElementwiseKernel(new KernelModule("elementwise"), launcher);
        reduce = new ReduceKernel(new KernelModule("reduce"), launcher, this);
        gemm = new GemmKernel(new KernelModule("gemm"), launcher, cublas, this);
        conv2d = new Conv2dKernel(new KernelModule("conv2d"), new KernelModule("conv2d_igemm"), launcher, gemm, this);
        avgPool2 = new AvgPool2Kernel(new KernelModule("avgpool2"), launcher);
        reluPool2 = new ReluPool2Kernel(new KernelModule("relupool2"), launcher);
        rows = new RowsKernel(new KernelModule("rows"), launcher, this);
        sgd = new SgdKernel(new KernelModule("sgd"), launcher);
        adjoint = new AdjointKernel(new KernelModule("adjoint"), launcher);
        instanceNorm = new InstanceNormKernel(new KernelModule("instancenorm"), launcher);
    }

    /** The process's CUDA backend on device 0, or an IllegalStateException saying why there is none. */
    public static synchronized CudaBackend get() {
        if (instance == null) {
            CudaDevice.Probe p = CudaDevice.open();
            if (!p.available()) throw new IllegalStateException(p.reason());
            instance = new CudaBackend(p.device());
        }
        return instance;
    }

    public CudaDevice device() {
        return device;
    }

    /** Whether GEMMs go to cuBLAS (it loaded and was not disabled) rather than the hand-written kernel. */
    public Cublas cublas() {
        return cublas;
    }

    /** How convolutions run now (MKDT_CUDA_CONV at start, IMPLICIT unless it says im2col). */
    public ConvAlgorithm convAlgorithm() {
        return conv2d.algorithm();
    }

    /** Switches how convolutions run (benchmarks and tests comparing the two) and returns the previous choice. */
    public ConvAlgorithm convAlgorithm(ConvAlgorithm a) {
        return conv2d.algorithm(a);
    }

    /** The arithmetic of the tiled GEMM and the implicit-GEMM convolutions (MKDT_CUDA_PRECISION at start, FP32 unless it says otherwise). */
    public Precision precision() {
        return gemm.precision();
    }

    /** Switches that arithmetic (benchmarks and tests comparing precisions) and returns the previous one. */
    public Precision precision(Precision p) {
        return gemm.precision(p);
    }

    /** The GEMM family, for benchmarks and tests that pick a version. */
    public GemmKernel gemmKernel() {
        return gemm;
    }

    /**
     * Kernel launches so far, every kernel of this backend (cuBLAS calls not included): divided
     * by the work done, the per-launch overhead a CUDA graph could remove.
     */
    public long kernelLaunches() {
        return launcher.launches();
    }

    /** Launches by kernel and grid since the last {@link #resetKernelProfile}, with FLOPs, bytes and (MKDT_CUDA_PROFILE=1) event times. */
    public KernelProfile.Snapshot kernelProfile() {
        device.makeCurrent();
        return launcher.profile().snapshot();
    }

    public void resetKernelProfile() {
        device.makeCurrent();
        launcher.profile().reset();
    }

    /** Waits for all queued work (benchmarks call this inside the timed region). */
    public void synchronize() {
        device.synchronize();
    }

    /** Device bytes held by this backend (live tensors and the allocator's cache) and their peak. */
    public long reservedBytes() {
        return allocator.reservedBytes();
    }

    public long peakReservedBytes() {
        return allocator.peakReservedBytes();
    }

    public void emptyCache() {
        allocator.emptyCache();
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public MemoryStats memory() {
        return memory;
    }

    // ---- memory -------------------------------------------------------------------------

    @Override
    public Storage allocate(DType dtype, int numel) {
        return allocate(dtype, numel, 0);
    }

    /** NaN's bits: what uninitialised outputs hold under MKDT_CUDA_POISON=1. */
    private static final int NAN_BITS = 0x7fc00000;

    /**
     * Whether uninitialised outputs are filled with NaN (MKDT_CUDA_POISON=1, set by
     * scripts/cudaemu.sh test and scripts/gpu-check.sh): an element a kernel leaves unwritten
     * then fails the CUDA-vs-CPU comparisons instead of passing on whatever memory held.
     */
    static final boolean POISON = "1".equals(System.getenv("MKDT_CUDA_POISON"));

    /**
     * No memset: the primitive that follows writes every element (Backend#allocateUninitialised;
     * GEMM with beta 0 never reads its output). Under MKDT_CUDA_POISON=1 the memory is NaN instead.
     */
    @Override
    public Storage allocateUninitialised(DType dtype, int numel) {
        return POISON ? allocate(dtype, numel, NAN_BITS) : allocate(dtype, numel, null);
    }

    private Storage allocate(DType dtype, int numel, Integer fillBits) {
        if (dtype != DType.F32) throw new IllegalArgumentException(F32_ONLY);
        device.makeCurrent();
        CudaStorage s = new CudaStorage(this, allocator, dtype, numel);
        if (numel > 0 && fillBits != null) {
            cuMemsetD32Async(s.pointer(0), fillBits, numel, device.stream());
            launcher.profile().memset((long) numel * Float.BYTES);
        }
        return s;
    }

    /** Workspace for a kernel; give it back with {@link #releaseScratch} once its last use is queued. */
    DeviceAllocator.Block scratch(long bytes) {
        device.makeCurrent();
        return allocator.allocate(bytes);
    }

    void releaseScratch(DeviceAllocator.Block b) {
        allocator.release(b);
    }

    /** A device copy of host ints (indices), as scratch. */
    DeviceAllocator.Block uploadInts(int[] values) {
        DeviceAllocator.Block b = scratch((long) values.length * Integer.BYTES);
        if (values.length > 0) cuMemcpyHtoDAsync(b.ptr(), Pointer.to(values), (long) values.length * Integer.BYTES, device.stream());
        return b;
    }

    @Override
    public void upload(Tensor dst, double[] src) {
        float[] f = new float[src.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) src[i];
        upload(dst, f);
    }

    @Override
    public void upload(Tensor dst, float[] src) {
        device.makeCurrent();
        // From pageable memory the driver stages the data before returning, so src may change after.
        if (src.length > 0) cuMemcpyHtoDAsync(ptr(dst), Pointer.to(src), (long) src.length * Float.BYTES, device.stream());
    }

    @Override
    public double[] downloadDoubles(Tensor src) {
        float[] f = downloadFloats(src);
        double[] d = new double[f.length];
        for (int i = 0; i < d.length; i++) d[i] = f[i];
        return d;
    }

    @Override
    public float[] downloadFloats(Tensor src) {
        device.makeCurrent();
        float[] out = new float[src.numel()];
        if (out.length > 0) cuMemcpyDtoHAsync(Pointer.to(out), ptr(src), (long) out.length * Float.BYTES, device.stream());
        cuStreamSynchronize(device.stream());
        return out;
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        device.makeCurrent();
        if (src.numel() > 0) cuMemcpyDtoDAsync(ptr(dst), ptr(src), (long) src.numel() * Float.BYTES, device.stream());
    }

    @Override
    public void fill(Tensor dst, double value) {
        device.makeCurrent();
        if (dst.numel() > 0) {
            cuMemsetD32Async(ptr(dst), Float.floatToRawIntBits((float) value), dst.numel(), device.stream());
            launcher.profile().memset((long) dst.numel() * Float.BYTES);
        }
    }

    // ---- compute: each delegates to the kernel class of the same stem -------------------------

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        device.makeCurrent();
        elementwise.unary(op, x, out);
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        device.makeCurrent();
        elementwise.binary(op, a, b, out);
    }

    @Override
    public void affine(Tensor x, double scale, double shift, Tensor out) {
        device.makeCurrent();
        elementwise.affine(x, scale, shift, out);
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        device.makeCurrent();
        reduce.reduce(ReduceKernel.Kind.SUM, x, out);
    }

    @Override
    public void max(Tensor x, Tensor out) {
        device.makeCurrent();
        reduce.reduce(ReduceKernel.Kind.MAX, x, out);
    }

    @Override
    public void gemm(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out) {
        device.makeCurrent();
        gemm.gemm(a, transA, b, transB, out);
    }

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, ConvGeometry geo, Tensor y) {
        device.makeCurrent();
        conv2d.forward(x, w, bias, geo, y);
    }

    @Override
    public void conv2dDataGrad(Tensor dy, Tensor w, ConvGeometry geo, Tensor dx) {
        device.makeCurrent();
        conv2d.dataGrad(dy, w, geo, dx);
    }

    @Override
    public void conv2dWeightGrad(Tensor x, Tensor dy, ConvGeometry geo, Tensor dw) {
        device.makeCurrent();
        conv2d.weightGrad(x, dy, geo, dw);
    }

    @Override
    public void avgPool2(Tensor x, Tensor y) {
        device.makeCurrent();
        avgPool2.forward(x, y);
    }

    @Override
    public void avgPool2Grad(Tensor dy, Tensor dx) {
        device.makeCurrent();
        avgPool2.backward(dy, dx);
    }

    @Override
    public void reluPool2(Tensor u, Tensor x, Tensor scale, Tensor shift, Tensor out) {
        device.makeCurrent();
        reluPool2.forward(u, x, scale, shift, out);
    }

    @Override
    public void reluPool2Grad(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx) {
        device.makeCurrent();
        reluPool2.backward(dy, x, scale, shift, dx);
    }

    /** One fused pass (relupool2_backward_affine_f32) instead of the default's six full-size passes and a memset. */
    @Override
    public void reluPool2Backward(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx, Tensor dscale, Tensor dshift) {
        if (scale == null || shift == null) {
            Backend.super.reluPool2Backward(dy, x, scale, shift, dx, dscale, dshift);
            return;
        }
        device.makeCurrent();
        reluPool2.backwardAffine(dy, x, scale, shift, dx, dscale, dshift);
    }

    @Override
    public void adjointStep(Tensor a, Tensor h, double alpha, Tensor s, Tensor dAlpha) {
        device.makeCurrent();
        adjoint.step(a, h, alpha, s, dAlpha);
    }

    @Override
    public void gatherRows(Tensor x, int[] idx, Tensor out) {
        device.makeCurrent();
        rows.gather(x, idx, out);
    }

    @Override
    public void scatterAddRows(Tensor src, int[] idx, Tensor out) {
        device.makeCurrent();
        rows.scatterAdd(src, idx, out);
    }

    @Override
    public void sgdStep(Tensor theta, Tensor grad, Tensor buf, double lr, double momentum, double weightDecay, boolean firstStep) {
        device.makeCurrent();
        sgd.step(theta, grad, buf, lr, momentum, weightDecay, firstStep);
    }

    @Override
    public void instanceNorm(Tensor x, double eps, Tensor xhat, Tensor rstd) {
        device.makeCurrent();
        instanceNorm.forward(x, eps, xhat, rstd);
    }

    @Override
    public void instanceNormGrad(Tensor g, Tensor xhat, Tensor rstd, Tensor dx) {
        device.makeCurrent();
        instanceNorm.backward(g, xhat, rstd, dx);
    }

    @Override
    public void instanceNormGradGrad(Tensor u, Tensor g, Tensor xhat, Tensor rstd, Tensor out) {
        device.makeCurrent();
        instanceNorm.gradGrad(u, g, xhat, rstd, out);
    }
}
