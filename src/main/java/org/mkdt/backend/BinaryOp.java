package org.mkdt.backend;

/** Elementwise functions of two arguments (see {@link Backend#binary}). */
public enum BinaryOp {
    ADD,
    SUB,
    MUL,
    DIV,
    /** a where b > 0, else 0: the ReLU backward, linear in a. */
    RELU_GRAD
}
