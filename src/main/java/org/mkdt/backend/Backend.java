package org.mkdt.backend;

import org.mkdt.tensor.DType;
import org.mkdt.tensor.MemoryStats;
import org.mkdt.tensor.Storage;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * The enumerated set of primitives a device must implement. Everything above (autodiff ops,
 * models, MKDT) is written against this interface only; the CPU backend is the reference for
 * every method and the CUDA backend implements the same set.
 *
 * <p>Conventions: every output tensor is allocated by the caller with the documented shape and
 * the inputs' dtype; all tensors are contiguous and row-major; outputs never alias inputs unless
 * stated. Shapes are validated by the op layer (org.mkdt.ops), which owns the error messages.
 */
public interface Backend {

    String name();

    MemoryStats memory();

    // ---- memory ---------------------------------------------------------------------------

    /** Zero-filled storage. */
    Storage allocate(DType dtype, int numel);

    /**
     * Storage whose contents are unspecified, for an output that the next primitive writes in
     * full (every element, whatever the inputs). Default: zero-filled like {@link #allocate}.
     */
    default Storage allocateUninitialised(DType dtype, int numel) {
        return allocate(dtype, numel);
    }

    void upload(Tensor dst, double[] src);

    void upload(Tensor dst, float[] src);

    double[] downloadDoubles(Tensor src);

    float[] downloadFloats(Tensor src);

    /** dst = src, element for element (same numel; converts dtype). dst may be a view into a larger tensor. */
    void copy(Tensor src, Tensor dst);

    void fill(Tensor dst, double value);

    // ---- elementwise with numpy broadcasting: each input broadcasts to out's shape --------

    /** out = op(x). With {@link UnaryOp#IDENTITY} this is "expand" (broadcast copy). */
    void unary(UnaryOp op, Tensor x, Tensor out);

    /** out = op(a, b). out may be a itself or b itself when it has the same shape (in-place accumulation). */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /** out = scale * x + shift, with scalar constants. x and out have the same shape; may alias. */
    void affine(Tensor x, double scale, double shift, Tensor out);

    // ---- reductions: out has x's rank, with a 1 on every reduced axis ---------------------

    /** out = sum of x over the axes where out has extent 1 and x does not. */
    void sum(Tensor x, Tensor out);

    /** out = max of x over those axes (used as a stability shift; not differentiated). */
    void max(Tensor x, Tensor out);

    // ---- linear algebra -------------------------------------------------------------------

    /**
     * out (M, N) = op(a) (M, K) . op(b) (K, N), op = transpose when the flag is set. Batched: with
     * a (S, ., .), b (S, ., .) and out (S, M, N), S independent products out[s] = op(a[s]) op(b[s])
     * (one per student of a batch; one launch on CUDA).
     */
    void gemm(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out);

    // ---- 2-D convolution (cross-correlation, like PyTorch), any kernel, stride and padding --
    // Batched (S students, each with its own weights and images): every tensor below gets a
    // leading S, x (S, N, Ci, H, W), w (S, Co, Ci, Kh, Kw), bias (S, Co), y (S, N, Co, Ho, Wo),
    // and student s's result is exactly what the unbatched call on its slices gives.

    /** y (N, Co, Ho, Wo) = conv(x (N, Ci, H, W), w (Co, Ci, Kh, Kw)) + bias (Co) [bias may be null]. */
    void conv2d(Tensor x, Tensor w, Tensor bias, ConvGeometry geo, Tensor y);

    /** dx (N, Ci, H, W) = transposed conv of dy (N, Co, Ho, Wo) with w (Co, Ci, Kh, Kw). */
    void conv2dDataGrad(Tensor dy, Tensor w, ConvGeometry geo, Tensor dx);

    /** dw (Co, Ci, Kh, Kw) = correlation of x (N, Ci, H, W) with dy (N, Co, Ho, Wo), summed over N. */
    void conv2dWeightGrad(Tensor x, Tensor dy, ConvGeometry geo, Tensor dw);

    // ---- pooling 2x2, stride 2 ---------------------------------------------------------------

    /** y (N, C, H/2, W/2) = mean of each 2x2 window of x (N, C, H, W); H and W even. */
    void avgPool2(Tensor x, Tensor y);

    /** dx (N, C, H, W) = dy (N, C, H/2, W/2) / 4 spread over each window (the adjoint of avgPool2). */
    void avgPool2Grad(Tensor dy, Tensor dx);

    /**
     * Fused per-plane affine + ReLU + 2x2 average pooling (the end of a student block: instance
     * norm's scale and shift, ReLU, pooling). With z = x * scale + shift, scale and shift (N, C)
     * one pair per (n, c) plane and the product and the sum each rounded like a separate
     * elementwise op (both null: z = x): out (N, C, H/2, W/2) = avgPool2(v * [z > 0]), with v = u
     * (N, C, H, W), or v = z when u is null. So pool(relu(x * scale + shift)) is
     * reluPool2(null, x, scale, shift, out), and no full-size intermediate is written.
     */
    void reluPool2(Tensor u, Tensor x, Tensor scale, Tensor shift, Tensor out);

    /** The adjoint in u: dx (N, C, H, W) = [z > 0] * avgPool2Grad(dy), z = x * scale + shift as above. */
    void reluPool2Grad(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx);

    /**
     * The first-order backward of reluPool2(null, x, scale, shift) with its affine: with
     * r = [z > 0] * avgPool2Grad(dy), dx (N, C, H, W) = r * scale, dscale and dshift (N, C) the
     * per-plane sums of r * x and of r. The default composes the primitives above (the bits of
     * the op-by-op backward); a backend may fuse it into one pass (the CPU does).
     */
    default void reluPool2Backward(Tensor dy, Tensor x, Tensor scale, Tensor shift, Tensor dx, Tensor dscale, Tensor dshift) {
        Shape s = dx.shape(), perPlane = Shape.of(s.dim(0), s.dim(1), 1, 1);
        reluPool2Grad(dy, x, scale, shift, dx);
        sum(dx, dshift.view(perPlane, 0));
        Tensor rx = Tensor.zeros(this, dx.dtype(), s);
        try {
            binary(BinaryOp.MUL, dx, x, rx);
            sum(rx, dscale.view(perPlane, 0));
        } finally {
            rx.storage().release();
        }
        binary(BinaryOp.MUL, dx, scale.view(perPlane, 0), dx);
    }

    // ---- rows ------------------------------------------------------------------------------

    /** out (len(idx), R...) = x (M, R...)[idx]. */
    void gatherRows(Tensor x, int[] idx, Tensor out);

    /** out (M, R...) += src (len(idx), R...) scattered to rows idx (duplicates add up). */
    void scatterAddRows(Tensor src, int[] idx, Tensor out);

    // ---- optimiser -------------------------------------------------------------------------

    /**
     * One SGD step with momentum and weight decay, PyTorch's semantics, in place on flat
     * vectors of one shape: d = grad + weightDecay * theta; buf = firstStep ? d : momentum * buf + d;
     * theta -= lr * buf.
     */
    void sgdStep(Tensor theta, Tensor grad, Tensor buf, double lr, double momentum, double weightDecay, boolean firstStep);

    /**
     * The reverse sweep's update of trajectory matching, in place and in one pass: a -= alpha * h
     * (same shape), and, when s is not null, dAlpha -= s (both one element, on the device), so
     * the learning rate's gradient is accumulated without a round trip to the host.
     */
    void adjointStep(Tensor a, Tensor h, double alpha, Tensor s, Tensor dAlpha);

    // ---- instance norm, fused (normalisation over H, W of each (n, c) plane) ---------------

    /** xhat (N, C, H, W) = (x - mean) * rstd; rstd (N, C, 1, 1) = 1 / sqrt(var + eps), biased var. */
    void instanceNorm(Tensor x, double eps, Tensor xhat, Tensor rstd);

    /** dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), means over each plane. */
    void instanceNormGrad(Tensor g, Tensor xhat, Tensor rstd, Tensor dx);

    /**
     * The second-order term: d/dx of sum(u * instanceNormGrad(g, x)), per plane
     * out = rstd^2 * ((3 A B - C) xhat - B (g - mean g) - A (u - mean u)) with A = mean(g xhat),
     * B = mean(u xhat), C = mean(u g) - mean(u) mean(g).
     */
    void instanceNormGradGrad(Tensor u, Tensor g, Tensor xhat, Tensor rstd, Tensor out);
}
