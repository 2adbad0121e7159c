package org.mkdt.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float vectors of the CPU's element-wise and per-plane kernels, and the fixed 16-chain
 * sums that keep their float32 reductions independent of the vector width.
 *
 * <p>The species is the machine's preferred one, the GEMM's: a second species in one JVM
 * makes the Vector API's shared call sites polymorphic, and C2 then boxes every vector (the
 * instance-norm kernel, on 256-bit vectors beside a 512-bit GEMM, allocated 8 GB per 15 student
 * steps and was 20% of a step on AVX-512). A sum runs in {@link #CHAINS} float chains, element
 * i of each 16-element chunk in chain i, held as {@link #K} vectors of {@link #L} lanes side by
 * side (1 on AVX-512, 2 on AVX2, 4 on 128-bit vectors), and the chains are added in double in
 * a fixed order: the same bits on AVX2 and AVX-512, and for any thread count.
 */
final class FloatChains {
    private FloatChains() {}

    static final VectorSpecies<Float> V = FloatVector.SPECIES_PREFERRED.length() >= 4 && FloatVector.SPECIES_PREFERRED.length() <= 16
            ? FloatVector.SPECIES_PREFERRED : FloatVector.SPECIES_128; // the kernels hold 1, 2 or 4 vectors per chunk
    static final int L = V.length();
    /** Partial sums per reduction, element i in chain i mod 16. */
    static final int CHAINS = 16;
    /** Vectors per chunk of {@link #CHAINS} elements: 1 (AVX-512), 2 (AVX2) or 4 (128-bit). */
    static final int K = CHAINS / L;

    /** The 16 float chains of up to four vectors (the first K in use), added in double in element order; {@code lanes} is scratch of 16. */
    static double finish(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, float[] lanes) {
        a0.intoArray(lanes, 0);
        if (K > 1) a1.intoArray(lanes, L);
        if (K > 2) {
            a2.intoArray(lanes, 2 * L);
            a3.intoArray(lanes, 3 * L);
        }
        double s = 0;
        for (float v : lanes) s += v;
        return s;
    }
}
