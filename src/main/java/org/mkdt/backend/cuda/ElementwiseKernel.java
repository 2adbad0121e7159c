package org.mkdt.backend.cuda;

import static org.mkdt.backend.cuda.Kernels.BLOCK;
import static org.mkdt.backend.cuda.Kernels.ptr;

import jcuda.driver.CUfunction;
import org.mkdt.backend.BinaryOp;
import org.mkdt.backend.Broadcast;
import org.mkdt.backend.UnaryOp;
import org.mkdt.tensor.Tensor;

/** kernels/elementwise.cu: unary and binary ops with broadcasting, and affine. */
final class ElementwiseKernel {
    /** The Walk struct's capacity (kernels/elementwise.cu). */
    static final int MAX_RANK = 6;

    private final Launcher launcher;
    private final CUfunction unary, binary, affine;

    ElementwiseKernel(KernelModule m, Launcher launcher) {
        this.launcher = launcher;
        unary = m.function("unary_f32");
        binary = m.function("binary_f32");
        affine = m.function("affine_f32");
    }

    /** The op codes of kernels/elementwise.cu (explicit, so reordering the enum cannot break them). */
    static int code(UnaryOp op) {
        return switch (op) {
            case IDENTITY -> 0;
            case NEG -> 1;
            case EXP -> 2;
            case LOG -> 3;
            case SQRT -> 4;
            case RSQRT -> 5;
            case RELU -> 6;
        };
    }

    static int code(BinaryOp op) {
        return switch (op) {
            case ADD -> 0;
            case SUB -> 1;
            case MUL -> 2;
            case DIV -> 3;
            case RELU_GRAD -> 4;
        };
    }

    /** struct Walk { int rank; int dims[6]; int stride0[6]; int stride1[6]; } */
    static int[] walk(Broadcast b, int inputs) {
        int[] dims = b.dims();
        if (dims.length > MAX_RANK) {
            throw new IllegalArgumentException("broadcast needs " + dims.length + " dimensions after merging; the CUDA kernels take at most " + MAX_RANK);
        }
        int[] w = new int[1 + 3 * MAX_RANK];
        w[0] = dims.length;
        System.arraycopy(dims, 0, w, 1, dims.length);
        for (int k = 0; k < inputs; k++) System.arraycopy(b.strides(k), 0, w, 1 + (k + 1) * MAX_RANK, dims.length);
        return w;
    }

    /** Launch names with the op ("binary_f32 mul"), so the kernel profile tells the ops apart; made once, not per launch. */
    private static final String[] UNARY_NAMES = names("unary_f32", UnaryOp.values()), BINARY_NAMES = names("binary_f32", BinaryOp.values());

    private static String[] names(String kernel, Enum<?>[] ops) {
        String[] n = new String[ops.length];
        for (Enum<?> op : ops) n[op.ordinal()] = kernel + " " + op.name().toLowerCase(java.util.Locale.ROOT);
        return n;
    }

    void unary(UnaryOp op, Tensor x, Tensor out) {
        int n = out.numel();
        int[] w = walk(Broadcast.plan(out.shape(), x.shape()), 1);
        launcher.launch(UNARY_NAMES[op.ordinal()], KernelProfile.Cost.floats(n, (long) x.numel() + n), unary, Launcher.blocks(n, BLOCK, Launcher.MAX_BLOCKS), BLOCK, code(op), ptr(x), ptr(out), n, w);
    }

    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        int n = out.numel();
        int[] w = walk(Broadcast.plan(out.shape(), a.shape(), b.shape()), 2);
        launcher.launch(BINARY_NAMES[op.ordinal()], KernelProfile.Cost.floats(n, (long) a.numel() + b.numel() + n), binary, Launcher.blocks(n, BLOCK, Launcher.MAX_BLOCKS), BLOCK, code(op), ptr(a), ptr(b), ptr(out), n, w);
    }

    void affine(Tensor x, double scale, double shift, Tensor out) {
        int n = out.numel();
        launcher.launch("affine_f32", KernelProfile.Cost.floats(2L * n, 2L * n), affine, Launcher.blocks(n, BLOCK, Launcher.MAX_BLOCKS), BLOCK, ptr(x), ptr(out), n, (float) scale, (float) shift);
    }
}
