package org.mkdt.ops;

import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** Argument checks shared by the ops; messages name the op and the shapes involved. */
final class Checks {
    private Checks() {}

    static void sameKind(String op, Tensor a, Tensor b) {
        if (a.backend() != b.backend()) {
            throw new IllegalArgumentException(op + ": tensors on different backends (" + a.backend().name() + ", " + b.backend().name() + ")");
        }
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(op + ": dtypes differ (" + a.dtype() + " " + a.shape() + " vs " + b.dtype() + " " + b.shape() + ")");
        }
    }

    static void rank(String op, String what, Tensor t, int rank) {
        if (t.shape().rank() != rank) {
            throw new IllegalArgumentException(op + ": " + what + " must have rank " + rank + ", got shape " + t.shape());
        }
    }

    static void sameShape(String op, Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException(op + ": shapes " + a.shape() + " and " + b.shape() + " differ");
        }
    }

    static void argument(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    static Shape shapeOf(int... dims) {
        return Shape.of(dims);
    }
}
