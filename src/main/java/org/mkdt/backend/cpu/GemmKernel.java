package org.mkdt.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM, C = op(A) op(B) (+ C when accumulating), in the BLIS style:
 * op(B) is packed into KC x NR column panels, op(A) into MR x KC row panels, and a register-
 * blocked micro-kernel computes one MR x NR tile of C with the Vector API. Transposes are
 * absorbed by the packing routines, so the micro-kernel sees one layout only.
 *
 * Shapes: op(A): (M, K), op(B): (K, N), C: (M, N); all row-major with leading dimensions
 * lda, ldb, ldc and element offsets. Determinism: every C element is summed over k in the same
 * order whatever the thread count (threads split N only).
 */
public final class GemmKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * The micro-kernel versions, side by side: MR rows by two vectors of columns.
     * <ul>
     *   <li>8 x 2 (16 accumulators) measured best where there are 32 vector registers (AVX-512):
     *       248 GFLOP/s at n = 1024 on 2 cores, against 185-217 for 6 x 2 and 195-246 for 4 x 4
     *       (sweep of MR x NR x KC x MC, 2026-11-26);</li>
     *   <li>6 x 2 (12 accumulators) fits the 16 registers of AVX2 without spilling.</li>
     * </ul>
     */
    enum Tile {
        T8X2(8),
        T6X2(6);

        final int mr;

        Tile(int mr) {
            this.mr = mr;
        }

        /** 8 x 2 with 512-bit vectors (AVX-512 has 32 registers), else 6 x 2. */
        static final Tile DEFAULT = L >= 16 ? T8X2 : T6X2;
    }

    /** The largest MR of any tile (sizes the scratch tile). */
    private static final int MAX_MR = 8;
    /** Columns of the micro-tile: two vectors. */
    static final int NR = 2 * L;
    private static final int KC = 512;
    private static final int MC = 96;
    private static final int NC = 4096;

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(
            () -> new float[][] {new float[MC * KC], new float[KC * NC], new float[MAX_MR * NR]});

    private GemmKernel() {}

    /** Multi-threaded over column blocks of C; each block is computed by {@link #sgemmSerial}. */
    public static void sgemm(int m, int n, int k,
                             float[] a, int offA, int lda, boolean transA,
                             float[] b, int offB, int ldb, boolean transB,
                             float[] c, int offC, int ldc, boolean accumulate) {
        if (m == 0 || n == 0) return;
        long flops = 2L * m * n * Math.max(1, k);
        int cols = n;
        int grainCols = NR * Math.max(1, (int) Math.min(NC / NR, Math.ceil((double) cols / NR / (2.0 * Parallel.threads()))));
        if (flops < 4_000_000L) grainCols = cols;
        Parallel.forRange(cols, grainCols, (lo, hi) ->
                sgemmSerial(m, hi - lo, k, a, offA, lda, transA,
                        b, transB ? offB + lo * ldb : offB + lo, ldb, transB,
                        c, offC + lo, ldc, accumulate));
    }

    /** One thread: C = op(A) op(B) (+ C), with the machine's micro-kernel. */
    public static void sgemmSerial(int m, int n, int k,
                                   float[] a, int offA, int lda, boolean transA,
                                   float[] b, int offB, int ldb, boolean transB,
                                   float[] c, int offC, int ldc, boolean accumulate) {
        sgemmSerial(Tile.DEFAULT, m, n, k, a, offA, lda, transA, b, offB, ldb, transB, c, offC, ldc, accumulate);
    }

    /** One thread, a given micro-kernel version (tests and benchmarks pick each). */
    static void sgemmSerial(Tile tile, int m, int n, int k,
                            float[] a, int offA, int lda, boolean transA,
                            float[] b, int offB, int ldb, boolean transB,
                            float[] c, int offC, int ldc, boolean accumulate) {
        run(tile, m, n, k, null, a, offA, lda, transA, b, offB, ldb, transB, c, offC, ldc, accumulate);
    }

    /**
     * op(A) packed once into the micro-kernel's row panels, for many products with the same A:
     * a convolution's weights, shared read-only by every image group and thread (packing them
     * per group was 8% of a student step). Block (pc, ic) of the panels starts at
     * {@code offset + pc * mPad + ic * kc}: each K block holds all rows, padded to whole panels.
     */
    public record PackedA(Tile tile, int m, int k, int mPad, float[] panels, int offset) {}

    /** Packs op(A) (m, k) for {@link #sgemmSerial(PackedA, int, float[], int, int, boolean, float[], int, int, boolean)}. */
    public static PackedA pack(int m, int k, float[] a, int offA, int lda, boolean transA) {
        return packInto(m, k, a, offA, lda, transA, new float[packedSize(m, k)], 0);
    }

    /** Floats that {@link #packInto} writes for an (m, k) operand. */
    public static int packedSize(int m, int k) {
        int mr = Tile.DEFAULT.mr;
        return (m + mr - 1) / mr * mr * Math.max(1, k);
    }

    /**
     * As {@link #pack}, into dst[at .. at + packedSize(m, k)), every float of which it writes
     * (padding included): a caller's reused scratch needs no clearing. The result reads dst, so
     * dst must stay untouched while it is in use.
     */
    public static PackedA packInto(int m, int k, float[] a, int offA, int lda, boolean transA, float[] dst, int at) {
        Tile tile = Tile.DEFAULT;
        int mPad = (m + tile.mr - 1) / tile.mr * tile.mr;
        if (dst.length - at < packedSize(m, k)) throw new IllegalArgumentException("pack: " + (dst.length - at) + " floats for " + packedSize(m, k));
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            packA(tile.mr, m, kc, a, offA, lda, transA, 0, pc, dst, at + pc * mPad);
        }
        return new PackedA(tile, m, k, mPad, dst, at);
    }

    /** One thread: C = A op(B) (+ C) with A packed by {@link #pack}; the same bits as the unpacked call. */
    public static void sgemmSerial(PackedA a, int n, float[] b, int offB, int ldb, boolean transB,
                                   float[] c, int offC, int ldc, boolean accumulate) {
        run(a.tile(), a.m(), n, a.k(), a, null, 0, 0, false, b, offB, ldb, transB, c, offC, ldc, accumulate);
    }

    /** The blocked loops; A comes packed ({@code packed}) or is packed here block by block. */
    private static void run(Tile tile, int m, int n, int k, PackedA packed,
                            float[] a, int offA, int lda, boolean transA,
                            float[] b, int offB, int ldb, boolean transB,
                            float[] c, int offC, int ldc, boolean accumulate) {
        final int tileRows = tile.mr;
        if (m == 0 || n == 0) return;
        if (!accumulate) {
            for (int i = 0; i < m; i++) java.util.Arrays.fill(c, offC + i * ldc, offC + i * ldc + n, 0f);
        }
        float[][] scratch = SCRATCH.get();
        float[] packB = scratch[1], edge = scratch[2];
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                packB(kc, nc, b, offB, ldb, transB, pc, jc, packB);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    float[] panelsA;
                    int baseA;
                    if (packed != null) {
                        panelsA = packed.panels();
                        baseA = packed.offset() + pc * packed.mPad() + ic * kc;
                    } else {
                        panelsA = scratch[0];
                        baseA = 0;
                        packA(tileRows, mc, kc, a, offA, lda, transA, ic, pc, panelsA, 0);
                    }
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        int pb = (jr / NR) * kc * NR;
                        for (int ir = 0; ir < mc; ir += tileRows) {
                            int mr = Math.min(tileRows, mc - ir);
                            int pa = baseA + ir * kc;
                            int cOff = offC + (ic + ir) * ldc + jc + jr;
                            if (mr == tileRows && nr == NR) {
                                micro(tile, kc, panelsA, pa, packB, pb, c, cOff, ldc);
                            } else {
                                java.util.Arrays.fill(edge, 0f);
                                micro(tile, kc, panelsA, pa, packB, pb, edge, 0, NR);
                                for (int i = 0; i < mr; i++) {
                                    for (int j = 0; j < nr; j++) c[cOff + i * ldc + j] += edge[i * NR + j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Packs rows [ic, ic+mc) x cols [pc, pc+kc) of op(A) into MR-row panels, zero-padded, at
     * dst[at ..]: [panel][k][MR].
     * One loop per layout so that every read is contiguous: a row of A is streamed into a
     * strided column of the panel, a row of A^T is one block copy (it was 12% of a student
     * step as one strided gather with the transpose tested per element).
     */
    private static void packA(int tileRows, int mc, int kc, float[] a, int offA, int lda, boolean transA, int ic, int pc, float[] dst, int at) {
        for (int ir = 0; ir < mc; ir += tileRows) {
            int mr = Math.min(tileRows, mc - ir);
            int base = at + ir * kc;
            if (transA) {
                int src = offA + pc * lda + ic + ir;
                for (int p = 0; p < kc; p++, src += lda) {
                    int d = base + p * tileRows;
                    System.arraycopy(a, src, dst, d, mr);
                    for (int i = mr; i < tileRows; i++) dst[d + i] = 0f;
                }
            } else {
                for (int i = 0; i < mr; i++) {
                    int src = offA + (ic + ir + i) * lda + pc;
                    for (int p = 0, d = base + i; p < kc; p++, d += tileRows) dst[d] = a[src + p];
                }
                for (int i = mr; i < tileRows; i++) {
                    for (int p = 0, d = base + i; p < kc; p++, d += tileRows) dst[d] = 0f;
                }
            }
        }
    }

    /** Packs rows [pc, pc+kc) x cols [jc, jc+nc) of op(B) into NR-column panels, zero-padded: [panel][k][NR]. */
    private static void packB(int kc, int nc, float[] b, int offB, int ldb, boolean transB, int pc, int jc, float[] dst) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int base = (jr / NR) * kc * NR;
            if (!transB) {
                for (int p = 0; p < kc; p++) {
                    int d = base + p * NR;
                    System.arraycopy(b, offB + (pc + p) * ldb + jc + jr, dst, d, nr);
                    for (int j = nr; j < NR; j++) dst[d + j] = 0f;
                }
            } else {
                // a row of op(B)^T streams into a strided column of the panel
                for (int j = 0; j < nr; j++) {
                    int src = offB + (jc + jr + j) * ldb + pc;
                    for (int p = 0, d = base + j; p < kc; p++, d += NR) dst[d] = b[src + p];
                }
                for (int j = nr; j < NR; j++) {
                    for (int p = 0, d = base + j; p < kc; p++, d += NR) dst[d] = 0f;
                }
            }
        }
    }

    /**
     * C[MR x NR] += Apanel[MR x kc] . Bpanel[kc x NR] with the tile's kernel. The kernels are
     * branch-free and write their stores out inline on purpose: a data-dependent branch costs a
     * deoptimisation when a later call takes the other side, and a helper taking vectors as
     * arguments, if not inlined, boxes every vector; either makes the Vector API several times
     * slower until the JIT recompiles.
     */
    private static void micro(Tile tile, int kc, float[] pa, int ia, float[] pb, int ib, float[] c, int ic, int ldc) {
        switch (tile) {
            case T8X2 -> micro8x2(kc, pa, ia, pb, ib, c, ic, ldc);
            case T6X2 -> micro6x2(kc, pa, ia, pb, ib, c, ic, ldc);
        }
    }

    /** The 8 x 2 micro-kernel: 16 vector accumulators. */
    private static void micro8x2(int kc, float[] pa, int ia, float[] pb, int ib, float[] c, int ic, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bo = ib + p * NR, ao = ia + p * 8;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo);
            FloatVector b1 = FloatVector.fromArray(S, pb, bo + L);
            FloatVector x0 = FloatVector.broadcast(S, pa[ao + 0]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            FloatVector x1 = FloatVector.broadcast(S, pa[ao + 1]);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            FloatVector x2 = FloatVector.broadcast(S, pa[ao + 2]);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            FloatVector x3 = FloatVector.broadcast(S, pa[ao + 3]);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
            FloatVector x4 = FloatVector.broadcast(S, pa[ao + 4]);
            c40 = x4.fma(b0, c40);
            c41 = x4.fma(b1, c41);
            FloatVector x5 = FloatVector.broadcast(S, pa[ao + 5]);
            c50 = x5.fma(b0, c50);
            c51 = x5.fma(b1, c51);
            FloatVector x6 = FloatVector.broadcast(S, pa[ao + 6]);
            c60 = x6.fma(b0, c60);
            c61 = x6.fma(b1, c61);
            FloatVector x7 = FloatVector.broadcast(S, pa[ao + 7]);
            c70 = x7.fma(b0, c70);
            c71 = x7.fma(b1, c71);
        }
        int r0 = ic + 0 * ldc;
        FloatVector.fromArray(S, c, r0).add(c00).intoArray(c, r0);
        FloatVector.fromArray(S, c, r0 + L).add(c01).intoArray(c, r0 + L);
        int r1 = ic + 1 * ldc;
        FloatVector.fromArray(S, c, r1).add(c10).intoArray(c, r1);
        FloatVector.fromArray(S, c, r1 + L).add(c11).intoArray(c, r1 + L);
        int r2 = ic + 2 * ldc;
        FloatVector.fromArray(S, c, r2).add(c20).intoArray(c, r2);
        FloatVector.fromArray(S, c, r2 + L).add(c21).intoArray(c, r2 + L);
        int r3 = ic + 3 * ldc;
        FloatVector.fromArray(S, c, r3).add(c30).intoArray(c, r3);
        FloatVector.fromArray(S, c, r3 + L).add(c31).intoArray(c, r3 + L);
        int r4 = ic + 4 * ldc;
        FloatVector.fromArray(S, c, r4).add(c40).intoArray(c, r4);
        FloatVector.fromArray(S, c, r4 + L).add(c41).intoArray(c, r4 + L);
        int r5 = ic + 5 * ldc;
        FloatVector.fromArray(S, c, r5).add(c50).intoArray(c, r5);
        FloatVector.fromArray(S, c, r5 + L).add(c51).intoArray(c, r5 + L);
        int r6 = ic + 6 * ldc;
        FloatVector.fromArray(S, c, r6).add(c60).intoArray(c, r6);
        FloatVector.fromArray(S, c, r6 + L).add(c61).intoArray(c, r6 + L);
        int r7 = ic + 7 * ldc;
        FloatVector.fromArray(S, c, r7).add(c70).intoArray(c, r7);
        FloatVector.fromArray(S, c, r7 + L).add(c71).intoArray(c, r7 + L);
    }

    /** The 6 x 2 micro-kernel: 12 vector accumulators. */
    private static void micro6x2(int kc, float[] pa, int ia, float[] pb, int ib, float[] c, int ic, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bo = ib + p * NR, ao = ia + p * 6;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo);
            FloatVector b1 = FloatVector.fromArray(S, pb, bo + L);
            FloatVector x0 = FloatVector.broadcast(S, pa[ao + 0]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            FloatVector x1 = FloatVector.broadcast(S, pa[ao + 1]);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            FloatVector x2 = FloatVector.broadcast(S, pa[ao + 2]);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            FloatVector x3 = FloatVector.broadcast(S, pa[ao + 3]);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
            FloatVector x4 = FloatVector.broadcast(S, pa[ao + 4]);
            c40 = x4.fma(b0, c40);
            c41 = x4.fma(b1, c41);
            FloatVector x5 = FloatVector.broadcast(S, pa[ao + 5]);
            c50 = x5.fma(b0, c50);
            c51 = x5.fma(b1, c51);
        }
        int r0 = ic + 0 * ldc;
        FloatVector.fromArray(S, c, r0).add(c00).intoArray(c, r0);
        FloatVector.fromArray(S, c, r0 + L).add(c01).intoArray(c, r0 + L);
        int r1 = ic + 1 * ldc;
        FloatVector.fromArray(S, c, r1).add(c10).intoArray(c, r1);
        FloatVector.fromArray(S, c, r1 + L).add(c11).intoArray(c, r1 + L);
        int r2 = ic + 2 * ldc;
        FloatVector.fromArray(S, c, r2).add(c20).intoArray(c, r2);
        FloatVector.fromArray(S, c, r2 + L).add(c21).intoArray(c, r2 + L);
        int r3 = ic + 3 * ldc;
        FloatVector.fromArray(S, c, r3).add(c30).intoArray(c, r3);
        FloatVector.fromArray(S, c, r3 + L).add(c31).intoArray(c, r3 + L);
        int r4 = ic + 4 * ldc;
        FloatVector.fromArray(S, c, r4).add(c40).intoArray(c, r4);
        FloatVector.fromArray(S, c, r4 + L).add(c41).intoArray(c, r4 + L);
        int r5 = ic + 5 * ldc;
        FloatVector.fromArray(S, c, r5).add(c50).intoArray(c, r5);
        FloatVector.fromArray(S, c, r5 + L).add(c51).intoArray(c, r5 + L);
    }
}
