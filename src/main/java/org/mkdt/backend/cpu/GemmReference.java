package org.mkdt.backend.cpu;

/**
 * Double-precision GEMM by the textbook i-k-j loops, parallel over rows of C: the float64
 * path (gradient checks, small shapes) and the reference the fast float32 kernel is tested
 * against. Same shape conventions as {@link GemmKernel}.
 */
final class GemmReference {
    private static final jdk.incubator.vector.VectorSpecies<Double> D = jdk.incubator.vector.DoubleVector.SPECIES_PREFERRED;

    /** At most this many rows of C take the column-band path. */
    private static final int SHORT_M = 32;

    private GemmReference() {}

    /** y[oy, oy + len) += alpha * x[ox, ox + len), lane-parallel (each element's own order is unchanged). */
    static void axpy(double alpha, double[] x, int ox, double[] y, int oy, int len) {
        var va = jdk.incubator.vector.DoubleVector.broadcast(D, alpha);
        int j = 0;
        for (int upper = D.loopBound(len); j < upper; j += D.length()) {
            jdk.incubator.vector.DoubleVector.fromArray(D, x, ox + j).fma(va, jdk.incubator.vector.DoubleVector.fromArray(D, y, oy + j)).intoArray(y, oy + j);
        }
        for (; j < len; j++) y[oy + j] += alpha * x[ox + j];
    }

    /** sum over p of x[ox + p] * y[oy + p], lane-parallel (a fixed order for a given vector width). */
    static double dot(double[] x, int ox, double[] y, int oy, int len) {
        var acc = jdk.incubator.vector.DoubleVector.zero(D);
        int p = 0;
        for (int upper = D.loopBound(len); p < upper; p += D.length()) {
            acc = jdk.incubator.vector.DoubleVector.fromArray(D, x, ox + p).fma(jdk.incubator.vector.DoubleVector.fromArray(D, y, oy + p), acc);
        }
        double sum = acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        for (; p < len; p++) sum += x[ox + p] * y[oy + p];
        return sum;
    }

    static void dgemm(int m, int n, int k,
                      double[] a, int offA, int lda, boolean transA,
                      double[] b, int offB, int ldb, boolean transB,
                      double[] c, int offC, int ldc, boolean accumulate) {
        if (transB && !transA) {
            // Rows of A and rows of B are both contiguous along K: each C element is a dot
            // product (a linear probe's logits, N = 10 classes, K = 2048 features: the axpy form
            // below would run inner loops of length 10).
            Parallel.forRange(m, Parallel.grain(m, (long) n * k, 1 << 15), (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    for (int j = 0; j < n; j++) {
                        double v = dot(a, offA + i * lda, b, offB + j * ldb, k);
                        int ci = offC + i * ldc + j;
                        c[ci] = accumulate ? c[ci] + v : v;
                    }
                }
            });
            return;
        }
        if (transB) {
            // Transposed B would make the inner loop strided: copy it to (K, N) once.
            double[] t = new double[k * n];
            for (int j = 0; j < n; j++) for (int p = 0; p < k; p++) t[p * n + j] = b[offB + j * ldb + p];
            dgemm(m, n, k, a, offA, lda, transA, t, 0, n, false, c, offC, ldc, accumulate);
            return;
        }
        if (m <= SHORT_M) {
            // Few rows of C (a probe's weight gradient: 10 x 2048 summed over 3000 samples):
            // rows-outer would stream all of B once per row. Instead each thread owns a band of
            // columns, keeps all m partial rows of it, and reads each row of B once.
            int band = 256;
            Parallel.forRange((n + band - 1) / band, 1, (lo, hi) -> {
                for (int t = lo; t < hi; t++) {
                    int j0 = t * band, len = Math.min(band, n - j0);
                    double[] acc = new double[m * len];
                    for (int p = 0; p < k; p++) {
                        for (int i = 0; i < m; i++) {
                            double av = transA ? a[offA + p * lda + i] : a[offA + i * lda + p];
                            if (av != 0.0) axpy(av, b, offB + p * ldb + j0, acc, i * len, len);
                        }
                    }
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < len; j++) {
                            int ci = offC + i * ldc + j0 + j;
                            c[ci] = accumulate ? c[ci] + acc[i * len + j] : acc[i * len + j];
                        }
                    }
                }
            });
            return;
        }
        Parallel.forRange(m, Parallel.grain(m, (long) n * k, 1 << 15), (lo, hi) -> {
            double[] row = new double[n];
            for (int i = lo; i < hi; i++) {
                java.util.Arrays.fill(row, 0.0);
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[offA + p * lda + i] : a[offA + i * lda + p];
                    if (av == 0.0) continue;
                    axpy(av, b, offB + p * ldb, row, 0, n);
                }
                int co = offC + i * ldc;
                for (int j = 0; j < n; j++) c[co + j] = accumulate ? c[co + j] + row[j] : row[j];
            }
        });
    }
}
