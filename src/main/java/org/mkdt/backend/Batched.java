package org.mkdt.backend;

import java.util.Arrays;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * Batched students: S models advanced together keep every per-student tensor with a leading
 * extent S, student-major, so student s's part is one contiguous slice. A backend that has no
 * batched kernel for a primitive runs it once per slice (the CPU reference does exactly that,
 * which makes a batched run bit-identical to S separate runs).
 */
public final class Batched {
    private Batched() {}

    /** Student s's part of t (S, ...): a view of shape (...), or null when t is null. */
    public static Tensor slice(Tensor t, int s) {
        if (t == null) return null;
        int[] d = t.shape().dims();
        Shape rest = Shape.of(Arrays.copyOfRange(d, 1, d.length));
        return t.view(rest, s * rest.numel());
    }
}
