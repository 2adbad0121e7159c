package org.mkdt.backend.cuda;

import java.util.Locale;

/**
 * The arithmetic of the tiled GEMM and the implicit-GEMM convolutions (kernels/gemm_tile.cuh's
 * GemmPrecision; one entry point per precision, named by {@link #suffix}).
 * <ul>
 *   <li>FP32: FFMA on the CUDA cores, the default and the reference.</li>
 *   <li>TF32X3: tensor cores (mma.sync m16n8k8 TF32, FP32 accumulation) with each operand split
 *       into a TF32 part and a TF32 remainder, three products per step: float32-grade results
 *       (the dropped remainder-times-remainder term is about 2^-22 of each product), held to
 *       the same tolerances as FP32 by the tests.</li>
 *   <li>TF32: one TF32 product per step, about 10 bits of operand precision: faster, looser,
 *       explicit opt-in only, with its own tolerance tier in the tests.</li>
 * </ul>
 * FP32 stays the default until a GPU has run TF32X3 beside it (the emulator checks the
 * arithmetic and the fragment layout as the PTX ISA defines it, not the silicon).
 * {@code MKDT_CUDA_PRECISION=fp32|3xtf32|tf32} chooses for a process;
 * {@link CudaBackend#precision(Precision)} switches it.
 */
public enum Precision {
    FP32("fp32", "f32"), TF32X3("3xtf32", "3xtf32"), TF32("tf32", "tf32");

    private final String label, suffix;

    Precision(String label, String suffix) {
        this.label = label;
        this.suffix = suffix;
    }

    /** The name users write (MKDT_CUDA_PRECISION) and logs print. */
    public String label() {
        return label;
    }

    /** The entry points' suffix in kernels/gemm.cu and kernels/conv2d_igemm.cu. */
    String suffix() {
        return suffix;
    }

    /** The environment's choice: MKDT_CUDA_PRECISION unset gives FP32. */
    static Precision fromEnvironment(String value) {
        if (value == null || value.isBlank()) return FP32;
        String v = value.trim().toLowerCase(Locale.ROOT);
        for (Precision p : values()) if (p.label.equals(v)) return p;
        throw new IllegalArgumentException("MKDT_CUDA_PRECISION must be fp32, 3xtf32 or tf32, got '" + value + "'");
    }
}
