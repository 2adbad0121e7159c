package org.mkdt.backend.cpu;

import org.mkdt.backend.Backend;
import org.mkdt.backend.Batched;
import org.mkdt.backend.BinaryOp;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.backend.UnaryOp;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.MemoryStats;
import org.mkdt.tensor.Storage;
import org.mkdt.tensor.Tensor;

/**
 * The reference backend: plain Java on the heap, multi-threaded through {@link Parallel}. Each
 * primitive delegates to the kernel class of the same name stem.
 */
public final class CpuBackend implements Backend {
    /** The shared instance everything uses by default. */
    public static final CpuBackend INSTANCE = new CpuBackend();

    private final MemoryStats memory = new MemoryStats();
    private final ArrayPool pool = ArrayPool.sizedForHeap();

    /**
     * A separate instance: same kernels, its own memory accounting, so a measurement (or a test)
     * sees only its own tensors. Tensors of different instances do not mix in one op.
     */
    public CpuBackend() {
        this(false);
    }

    private final boolean poisoning;

    private CpuBackend(boolean poisoning) {
        this.poisoning = poisoning;
    }

    /**
     * A backend whose uninitialised outputs ({@link Backend#allocateUninitialised}) start as NaN,
     * so that an op which leaves any element of one unwritten shows up as NaN in its result
     * (UninitialisedOutputsTest compares every op and a training step with the plain backend).
     */
    public static CpuBackend poisoning() {
        return new CpuBackend(true);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public MemoryStats memory() {
        return memory;
    }

    /** Bytes of released arrays held for reuse (not live tensors; not in {@link #memory()}). */
    public long cachedBytes() {
        return pool.cachedBytes();
    }

    @Override
    public Storage allocate(DType dtype, int numel) {
        return new CpuStorage(this, pool, dtype, numel, CpuStorage.Fill.ZERO);
    }

    /** A pooled array as it comes (a fresh one is zero anyway): no fill pass over memory the op overwrites. */
    @Override
    public Storage allocateUninitialised(DType dtype, int numel) {
        return new CpuStorage(this, pool, dtype, numel, poisoning ? CpuStorage.Fill.NAN : CpuStorage.Fill.ANY);
    }

    @Override
    public void upload(Tensor dst, double[] src) {
        Buf b = Buf.of(dst);
        for (int i = 0; i < src.length; i++) b.set(i, src[i]);
    }

    @Override
    public void upload(Tensor dst, float[] src) {
        Buf b = Buf.of(dst);
        if (b.f != null) System.arraycopy(src, 0, b.f, b.off, src.length);
        else for (int i = 0; i < src.length; i++) b.set(i, src[i]);
    }

    @Override
    public double[] downloadDoubles(Tensor src) {
        Buf b = Buf.of(src);
        double[] out = new double[src.numel()];
        for (int i = 0; i < out.length; i++) out[i] = b.get(i);
        return out;
    }

    @Override
    public float[] downloadFloats(Tensor src) {
        Buf b = Buf.of(src);
        float[] out = new float[src.numel()];
        if (b.f != null) System.arraycopy(b.f, b.off, out, 0, out.length);
        else for (int i = 0; i < out.length; i++) out[i] = (float) b.get(i);
        return out;
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        try {
            Buf s = Buf.of(src), d = Buf.of(dst);
            if (s.f != null && d.f != null) System.arraycopy(s.f, s.off, d.f, d.off, src.numel());
            else if (s.d != null && d.d != null) System.arraycopy(s.d, s.off, d.d, d.off, src.numel());
            else for (int i = 0; i < src.numel(); i++) d.set(i, s.get(i));
        } finally {
            fence(src, dst);
        }
    }

    @Override
    public void fill(Tensor dst, double value) {
        try {
            Buf d = Buf.of(dst);
            if (d.f != null) java.util.Arrays.fill(d.f, d.off, d.off + dst.numel(), (float) value);
            else java.util.Arrays.fill(d.d, d.off, d.off + dst.numel(), value);
        } finally {
            fence(dst);
        }
    }

    /**
     * Keeps the tensors reachable until the kernel is done: kernels work on the raw arrays, and
     * a tensor the caller no longer references could otherwise be cleaned (its array pooled and
     * handed out again) while its data is still being read.
     */
    private static void fence(Tensor... tensors) {
        java.lang.ref.Reference.reachabilityFence(tensors);
    }

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        try {
            ElementwiseKernel.unary(op, x, out);
        } finally {
            fence(x, out);
        }
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        try {
            ElementwiseKernel.binary(op, a, b, out);
        } finally {
            fence(a, b, out);
        }
    }

    @Override
    public void affine(Tensor x, double scale, double shift, Tensor out) {
        try {
            ElementwiseKernel.affine(x, scale, shift, out);
        } finally {
            fence(x, out);
        }
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        try {
            ReduceKernel.reduce(ReduceKernel.Kind.SUM, x, out);
        } finally {
            fence(x, out);
        }
    }

    @Override
    public void max(Tensor x, Tensor out) {
        try {
            ReduceKernel.reduce(ReduceKernel.Kind.MAX, x, out);
        } finally {
            fence(x, out);
        }
    }

    @Override
    public void gemm(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out) {
        if (out.shape().rank() == 3) { // batched: one product per student slice
            for (int s = 0; s < out.shape().dim(0); s++) gemm(Batched.slice(a, s), transA, Batched.slice(b, s), transB, Batched.slice(out, s));
            return;
        }
        try {
            int m = out.shape().dim(0), n = out.shape().dim(1);
            int k = transA ? a.shape().dim(0) : a.shape().dim(1);
            int lda = a.shape().dim(1), ldb = b.shape().dim(1);
            Buf ab = Buf.of(a), bb = Buf.of(b), ob = Buf.of(out);
            if (a.dtype() == DType.F32) {
                GemmKernel.sgemm(m, n, k, ab.f, ab.off, lda, transA, bb.f, bb.off, ldb, transB, ob.f, ob.off, n, false);
            } else {
                GemmReference.dgemm(m, n, k, ab.d, ab.off, lda, transA, bb.d, bb.off, ldb, transB, ob.d, ob.off, n, false);
            }
        } finally {
            fence(a, b, out);
        }
    }

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, ConvGeometry geo, Tensor y) {
        if (x.shape().rank() == 5) {
            for (int s = 0; s < x.shape().dim(0); s++) conv2d(Batched.slice(x, s), Batched.slice(w, s), Batched.slice(bias, s), geo, Batched.slice(y, s));
            return;
        }
        try {
            Conv2dKernel.forward(x, w, bias, geo, y);
        } finally {
            fence(x, w, bias, y);
        }
    }

    @Override
    public void conv2dDataGrad(Tensor dy, Tensor w, ConvGeometry geo, Tensor dx) {
        if (dy.shape().rank() == 5) {
            for (int s = 0; s < dy.shape().dim(0); s++) conv2dDataGrad(Batched.slice(dy, s), Batched.slice(w, s), geo, Batched.slice(dx, s));
            return;
        }
        try {
            Conv2dKernel.dataGrad(dy, w, geo, dx);
        } finally {
            fence(dy, w, dx);
        }
    }

    @Override
    public void conv2dWeightGrad(Tensor x, Tensor dy, ConvGeometry geo, Tensor dw) {
        if (x.shape().rank() == 5) {
            for (int s = 0; s < x.shape().dim(0); s++) conv2dWeightGrad(Batched.slice(x, s), Batched.slice(dy, s), geo, Batched.slice(dw, s));
            return;
        }
        try {
            Conv2dKernel.weightGrad(x, dy, geo, dw);
        } finally {
            fence(x, dy, dw);
        }
    }

    @Override
    public void avgPool2(Tensor x, Tensor y) {
        try {
            AvgPool2Kernel.forward(x, y);
        } finally {
            fence(x, y);
        }
    }

    @Override
    public void avgPool2Grad(Tensor dy, Tensor dx) {
        try {
            AvgPool2Kernel.backward(dy, dx);
        } finally {
            fence(dy, dx);
        }
    }

    @Override
    public void reluPool2(Tensor u, Tensor x, Tensor scale, Tensor shift, Tensor out) {
        try {
            ReluPool2Kernel.forward(u, x, scale, shift, out);
        } finally {
            fence(u, x, scale, shift, out);
        }
    }

    @Override
    public void reluPool2Backward(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx, Tensor dscale, Tensor dshift) {
        try {
            ReluPool2Kernel.backwardAffine(dy, x, scale, shift, dx, dscale, dshift);
        } finally {
            fence(dy, x, scale, shift, dx, dscale, dshift);
        }
    }

    @Override
    public void reluPool2Grad(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx) {
        try {
            ReluPool2Kernel.backward(dy, x, scale, shift, dx);
        } finally {
            fence(dy, x, scale, shift, dx);
        }
    }

    @Override
    public void adjointStep(Tensor a, Tensor h, double alpha, Tensor s, Tensor dAlpha) {
        try {
            AdjointKernel.step(a, h, alpha, s, dAlpha);
        } finally {
            fence(a, h, s, dAlpha);
        }
    }

    @Override
    public void gatherRows(Tensor x, int[] idx, Tensor out) {
        try {
            RowsKernel.gather(x, idx, out);
        } finally {
            fence(x, out);
        }
    }

    @Override
    public void scatterAddRows(Tensor src, int[] idx, Tensor out) {
        try {
            RowsKernel.scatterAdd(src, idx, out);
        } finally {
            fence(src, out);
        }
    }

    @Override
    public void sgdStep(Tensor theta, Tensor grad, Tensor buf, double lr, double momentum, double weightDecay, boolean firstStep) {
        try {
            SgdKernel.step(theta, grad, buf, lr, momentum, weightDecay, firstStep);
        } finally {
            fence(theta, grad, buf);
        }
    }

    @Override
    public void instanceNorm(Tensor x, double eps, Tensor xhat, Tensor rstd) {
        try {
            InstanceNormKernel.forward(x, eps, xhat, rstd);
        } finally {
            fence(x, xhat, rstd);
        }
    }

    @Override
    public void instanceNormGrad(Tensor g, Tensor xhat, Tensor rstd, Tensor dx) {
        try {
            InstanceNormKernel.backward(g, xhat, rstd, dx);
        } finally {
            fence(g, xhat, rstd, dx);
        }
    }

    @Override
    public void instanceNormGradGrad(Tensor u, Tensor g, Tensor xhat, Tensor rstd, Tensor out) {
        try {
            InstanceNormKernel.secondOrder(u, g, xhat, rstd, out);
        } finally {
            fence(u, g, xhat, rstd, out);
        }
    }
}
