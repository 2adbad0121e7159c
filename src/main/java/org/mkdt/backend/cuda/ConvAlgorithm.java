package org.mkdt.backend.cuda;

import java.util.Locale;

/**
 * How the CUDA backend runs a convolution.
 * <ul>
 *   <li>IMPLICIT: kernels/conv2d_igemm.cu, the tiled GEMM gathering its operands straight from
 *       the NCHW images and storing straight into NCHW: one launch per pass (plus the split-K sum
 *       of a weight gradient), no column matrix, no permutations, no workspace. The default.</li>
 *   <li>IM2COL: kernels/conv2d.cu + gemm.cu, the column matrix in a bounded workspace, a GEMM
 *       and the layout changes: the reference the implicit kernels are tested against, and
 *       what a convolution the implicit kernels do not cover falls back to (a data gradient at
 *       stride above 1, or sizes past their 32-bit offsets).</li>
 * </ul>
 * {@code MKDT_CUDA_CONV=im2col} selects IM2COL for a whole process (a GPU session measuring
 * both); {@link CudaBackend#convAlgorithm(ConvAlgorithm)} switches it for benchmarks and tests.
 */
public enum ConvAlgorithm {
    IMPLICIT, IM2COL;

    /** The environment's choice: MKDT_CUDA_CONV unset or "implicit" gives IMPLICIT, "im2col" IM2COL. */
    static ConvAlgorithm fromEnvironment(String value) {
        if (value == null || value.isBlank()) return IMPLICIT;
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "implicit" -> IMPLICIT;
            case "im2col" -> IM2COL;
            default -> throw new IllegalArgumentException("MKDT_CUDA_CONV must be implicit or im2col, got '" + value + "'");
        };
    }
}
