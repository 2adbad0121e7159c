package org.mkdt.backend.cpu;

/**
 * Double-precision GEMM by the textbook i-k-j loops, parallel over rows of C: the float64
 * path (gradient checks, small shapes) and the reference the fast float32 kernel is tested
 * against. Same shape conventions as {@link GemmKernel}.
 */
final class GemmReference {
    private GemmReference() {}

    static void dgemm(int m, int n, int k,
                      double[] a, int offA, int lda, boolean transA,
                      double[] b, int offB, int ldb, boolean transB,
                      double[] c, int offC, int ldc, boolean accumulate) {
        Parallel.forRange(m, Parallel.grain(m, (long) n * k, 1 << 15), (lo, hi) -> {
            double[] row = new double[n];
            for (int i = lo; i < hi; i++) {
                java.util.Arrays.fill(row, 0.0);
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[offA + p * lda + i] : a[offA + i * lda + p];
                    if (av == 0.0) continue;
                    if (transB) {
                        for (int j = 0; j < n; j++) row[j] += av * b[offB + j * ldb + p];
                    } else {
                        int bo = offB + p * ldb;
                        for (int j = 0; j < n; j++) row[j] += av * b[bo + j];
                    }
                }
                int co = offC + i * ldc;
                for (int j = 0; j < n; j++) c[co + j] = accumulate ? c[co + j] + row[j] : row[j];
            }
        });
    }
}
