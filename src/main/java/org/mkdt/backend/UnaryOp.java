package org.mkdt.backend;

/** Elementwise functions of one argument (see {@link Backend#unary}). */
public enum UnaryOp {
    /** x (with broadcasting: expand). */
    IDENTITY,
    NEG,
    EXP,
    LOG,
    SQRT,
    /** 1 / sqrt(x). */
    RSQRT,
    /** max(x, 0). */
    RELU
}
