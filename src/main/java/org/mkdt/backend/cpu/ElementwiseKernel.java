package org.mkdt.backend.cpu;

import org.mkdt.backend.BinaryOp;
import org.mkdt.backend.Broadcast;
import org.mkdt.backend.UnaryOp;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Tensor;

/**
 * Broadcast elementwise kernels (unary, binary, affine), parallel over rows of the walk.
 * float32 runs tight loops over float[] with the op chosen outside the loop (these tensors
 * are the largest of a training step); float64 goes through {@link Buf}, written once.
 */
final class ElementwiseKernel {
    private static final long MIN_WORK = 1 << 15;

    private ElementwiseKernel() {}

    static void unary(UnaryOp op, Tensor x, Tensor out) {
        Broadcast plan = Broadcast.plan(out.shape(), x.shape());
        Buf xb = Buf.of(x), ob = Buf.of(out);
        int len = plan.rowLength(), sx = plan.rowStride(0);
        boolean f32 = x.dtype() == DType.F32;
        int pieces = pieces(len), items = plan.rows() * pieces;
        Parallel.forRange(items, Parallel.grain(items, (long) len / pieces, MIN_WORK), (lo, hi) -> {
            for (int item = lo; item < hi; item++) {
                int row = item / pieces, j0 = piece(len, pieces, item % pieces), n = piece(len, pieces, item % pieces + 1) - j0;
                int ix = plan.rowStart(0, row) + j0 * sx, io = row * len + j0;
                if (f32) unaryF32(op, xb.f, xb.off + ix, sx, ob.f, ob.off + io, n);
                else for (int j = 0; j < n; j++) ob.set(io + j, apply(op, xb.get(ix + j * sx)));
            }
        });
    }

    static double apply(UnaryOp op, double v) {
        return switch (op) {
            case IDENTITY -> v;
            case NEG -> -v;
            case EXP -> Math.exp(v);
            case LOG -> Math.log(v);
            case SQRT -> Math.sqrt(v);
            case RSQRT -> 1.0 / Math.sqrt(v);
            case RELU -> Math.max(v, 0.0);
        };
    }

    private static void unaryF32(UnaryOp op, float[] x, int ix, int sx, float[] o, int io, int n) {
        switch (op) {
            case IDENTITY -> { for (int j = 0; j < n; j++) o[io + j] = x[ix + j * sx]; }
            case NEG -> { for (int j = 0; j < n; j++) o[io + j] = -x[ix + j * sx]; }
            case RELU -> { for (int j = 0; j < n; j++) o[io + j] = Math.max(x[ix + j * sx], 0f); }
            // transcendental functions in double, rounded once: same values as the float64 path
            default -> { for (int j = 0; j < n; j++) o[io + j] = (float) apply(op, x[ix + j * sx]); }
        }
    }

    static void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        Broadcast plan = Broadcast.plan(out.shape(), a.shape(), b.shape());
        Buf ab = Buf.of(a), bb = Buf.of(b), ob = Buf.of(out);
        int len = plan.rowLength(), sa = plan.rowStride(0), sb = plan.rowStride(1);
        boolean f32 = a.dtype() == DType.F32;
        int pieces = pieces(len), items = plan.rows() * pieces;
        Parallel.forRange(items, Parallel.grain(items, (long) len / pieces, MIN_WORK), (lo, hi) -> {
            for (int item = lo; item < hi; item++) {
                int row = item / pieces, j0 = piece(len, pieces, item % pieces), n = piece(len, pieces, item % pieces + 1) - j0;
                int ia = plan.rowStart(0, row) + j0 * sa, ib = plan.rowStart(1, row) + j0 * sb, io = row * len + j0;
                if (f32) {
                    binaryF32(op, ab.f, ab.off + ia, sa, bb.f, bb.off + ib, sb, ob.f, ob.off + io, n);
                } else {
                    for (int j = 0; j < n; j++) ob.set(io + j, apply(op, ab.get(ia + j * sa), bb.get(ib + j * sb)));
                }
            }
        });
    }

    /**
     * Rows longer than {@link #PIECE} elements are cut into that many pieces of about equal
     * length, so that a same-shape op, which Broadcast merges into one long row, still runs on
     * every thread (it ran on one). Element-wise work has no order to keep: any split gives the
     * same bits.
     */
    private static final int PIECE = 1 << 14;

    private static int pieces(int len) {
        return Math.max(1, (len + PIECE - 1) / PIECE);
    }

    /** Start of piece k of a row of len elements cut into the given number of pieces. */
    private static int piece(int len, int pieces, int k) {
        return (int) ((long) len * k / pieces);
    }

    static double apply(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case RELU_GRAD -> b > 0 ? a : 0.0;
        };
    }

    /**
     * One small method per op, so each loop is compiled on its own profile: one method with
     * every loop inside grew past the JIT's inlining budget and ran the ReLU mask 5x slower.
     */
    private static void binaryF32(BinaryOp op, float[] a, int ia, int sa, float[] b, int ib, int sb, float[] o, int io, int n) {
        switch (op) {
            case ADD -> addF32(a, ia, sa, b, ib, sb, o, io, n);
            case SUB -> subF32(a, ia, sa, b, ib, sb, o, io, n);
            case MUL -> mulF32(a, ia, sa, b, ib, sb, o, io, n);
            case DIV -> divF32(a, ia, sa, b, ib, sb, o, io, n);
            case RELU_GRAD -> reluGradF32(a, ia, sa, b, ib, sb, o, io, n);
        }
    }

    // Each op's loop comes in the three forms a row takes (both contiguous, b or a broadcast)
    // besides the general strided one: C2 vectorises a loop only when its strides are the
    // constant 1 or 0, and these ops were 15% of a meta-gradient iteration as strided loops.

    private static void addF32(float[] a, int ia, int sa, float[] b, int ib, int sb, float[] o, int io, int n) {
        if (sa == 1 && sb == 1) for (int j = 0; j < n; j++) o[io + j] = a[ia + j] + b[ib + j];
        else if (sa == 1 && sb == 0) { float bv = b[ib]; for (int j = 0; j < n; j++) o[io + j] = a[ia + j] + bv; }
        else if (sa == 0 && sb == 1) { float av = a[ia]; for (int j = 0; j < n; j++) o[io + j] = av + b[ib + j]; }
        else for (int j = 0; j < n; j++) o[io + j] = a[ia + j * sa] + b[ib + j * sb];
    }

    private static void subF32(float[] a, int ia, int sa, float[] b, int ib, int sb, float[] o, int io, int n) {
        if (sa == 1 && sb == 1) for (int j = 0; j < n; j++) o[io + j] = a[ia + j] - b[ib + j];
        else if (sa == 1 && sb == 0) { float bv = b[ib]; for (int j = 0; j < n; j++) o[io + j] = a[ia + j] - bv; }
        else if (sa == 0 && sb == 1) { float av = a[ia]; for (int j = 0; j < n; j++) o[io + j] = av - b[ib + j]; }
        else for (int j = 0; j < n; j++) o[io + j] = a[ia + j * sa] - b[ib + j * sb];
    }

    private static void mulF32(float[] a, int ia, int sa, float[] b, int ib, int sb, float[] o, int io, int n) {
        if (sa == 1 && sb == 1) for (int j = 0; j < n; j++) o[io + j] = a[ia + j] * b[ib + j];
        else if (sa == 1 && sb == 0) { float bv = b[ib]; for (int j = 0; j < n; j++) o[io + j] = a[ia + j] * bv; }
        else if (sa == 0 && sb == 1) { float av = a[ia]; for (int j = 0; j < n; j++) o[io + j] = av * b[ib + j]; }
        else for (int j = 0; j < n; j++) o[io + j] = a[ia + j * sa] * b[ib + j * sb];
    }

    private static void divF32(float[] a, int ia, int sa, float[] b, int ib, int sb, float[] o, int io, int n) {
        if (sa == 1 && sb == 1) for (int j = 0; j < n; j++) o[io + j] = a[ia + j] / b[ib + j];
        else if (sa == 1 && sb == 0) { float bv = b[ib]; for (int j = 0; j < n; j++) o[io + j] = a[ia + j] / bv; }
        else for (int j = 0; j < n; j++) o[io + j] = a[ia + j * sa] / b[ib + j * sb];
    }

    /**
     * a where b > 0, else 0, without a branch: the sign of b is a coin flip per element, and the
     * JIT compiles the ternary to a branch that mispredicts half the time (4x slower). The bit
     * mask is all ones exactly when b's bits are a positive int: b > 0, or a +NaN b (which the
     * comparison would send to 0; a NaN activation has already spoilt the step either way).
     */
    private static void reluGradF32(float[] a, int ia, int sa, float[] b, int ib, int sb, float[] o, int io, int n) {
        for (int j = 0; j < n; j++) {
            int bits = Float.floatToRawIntBits(b[ib + j * sb]);
            int mask = ((-bits) & ~bits) >> 31;
            o[io + j] = Float.intBitsToFloat(Float.floatToRawIntBits(a[ia + j * sa]) & mask);
        }
    }

    static void affine(Tensor x, double scale, double shift, Tensor out) {
        Buf xb = Buf.of(x), ob = Buf.of(out);
        int n = x.numel();
        Parallel.forRange(n, Parallel.grain(n, 1, MIN_WORK), (lo, hi) -> {
            for (int i = lo; i < hi; i++) ob.set(i, scale * xb.get(i) + shift);
        });
    }
}
