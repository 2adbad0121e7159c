package org.mkdt.backend.cuda;

import static org.mkdt.testing.Close.assertClose;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mkdt.backend.Backend;
import org.mkdt.backend.BinaryOp;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.backend.UnaryOp;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;
import org.mkdt.testing.Cuda;

/**
 * Every CUDA kernel against the CPU backend on seeded random inputs, at sizes that are not
 * multiples of any block or tile (1, 31, 33, 1000, 4097) and at the MKDT student's shapes.
 * The reference is the CPU in float64 where that is fast and float32 for the large convolutions;
 * tolerance atol + rtol |ref| with rtol 1e-4, atol growing with the length of the sums.
 */
@Tag("cuda")
class CudaKernelsTest {
    static final int[] SIZES = {1, 31, 33, 1000, 4097};
    private static CudaBackend cuda;
    private static final CpuBackend CPU = new CpuBackend();

    @BeforeEach
    void device() {
        cuda = Cuda.backendOrSkip();
    }

    // ---- helpers --------------------------------------------------------------------------

    /** Seeded U(lo, hi) values. */
    static double[] values(long seed, int n, double lo, double hi) {
        double[] u = Close.uniform(seed, n);
        for (int i = 0; i < n; i++) u[i] = lo + (hi - lo) * (u[i] + 1) / 2;
        return u;
    }

    static Tensor on(Backend b, DType t, Shape s, double[] v) {
        return Tensor.of(b, t, s, v);
    }

    /** Runs {@code op} on the CPU (dtype ref) and on CUDA with the same inputs, then compares out. */
    static void compare(String what, Shape outShape, DType ref, double atol, List<Shape> shapes, List<double[]> inputs,
            BiConsumer<List<Tensor>, Tensor> op) {
        compare(what, outShape, ref, atol, shapes, inputs, null, op);
    }

    static void compare(String what, Shape outShape, DType ref, double atol, List<Shape> shapes, List<double[]> inputs, double[] outInit,
            BiConsumer<List<Tensor>, Tensor> op) {
        try (Scope s = Scope.open()) {
            List<Tensor> c = new ArrayList<>(), g = new ArrayList<>();
            for (int i = 0; i < shapes.size(); i++) {
                c.add(on(CPU, ref, shapes.get(i), inputs.get(i)));
                g.add(on(cuda, DType.F32, shapes.get(i), inputs.get(i)));
            }
            Tensor co = outInit == null ? Tensor.zeros(CPU, ref, outShape) : on(CPU, ref, outShape, outInit);
            // Poison the device output (NaN) so an element the kernel forgets to write fails.
            Tensor go = Tensor.zeros(cuda, DType.F32, outShape);
            if (outInit == null) cuda.fill(go, Double.NaN);
            else cuda.upload(go, outInit);
            op.accept(c, co);
            op.accept(g, go);
            assertClose(co.toDoubleArray(), cuda.downloadFloats(go), atol, Close.F32_RTOL, what);
        }
    }

    // ---- elementwise ----------------------------------------------------------------------

    static Stream<Arguments> unaryCases() {
        List<Arguments> out = new ArrayList<>();
        for (UnaryOp op : UnaryOp.values()) for (int n : SIZES) out.add(Arguments.of(op, n));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("unaryCases")
    void unary(UnaryOp op, int n) {
        boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT;
        double[] x = values(n, n, positive ? 0.1 : -3, positive ? 4 : 3);
        compare(op + " n=" + n, Shape.of(n), DType.F64, 1e-6, List.of(Shape.of(n)), List.of(x), (in, out) -> in.get(0).backend().unary(op, in.get(0), out));
    }

    static Stream<Arguments> broadcastCases() {
        int[][][] shapes = {
            {{4097}, {4097}}, {{33, 31}, {31}}, {{33, 31}, {33, 1}}, {{1000}, {1}}, {{2, 3, 5, 7}, {3, 1, 7}},
            {{1}, {1}}, {{64, 128, 32, 32}, {1, 128, 1, 1}}, {{2, 1, 5, 1, 3, 1, 2}, {4, 1, 1, 3, 2, 2}},
        };
        List<Arguments> out = new ArrayList<>();
        for (BinaryOp op : BinaryOp.values()) for (int[][] s : shapes) out.add(Arguments.of(op, Shape.of(s[0]), Shape.of(s[1])));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("broadcastCases")
    void binaryBroadcast(BinaryOp op, Shape a, Shape b) {
        Shape out = Shape.broadcast(a, b);
        double[] x = values(1, a.numel(), -2, 2);
        double[] y = op == BinaryOp.DIV ? values(2, b.numel(), 0.5, 2) : values(2, b.numel(), -2, 2);
        compare(op + " " + a + " " + b, out, DType.F64, 1e-6, List.of(a, b), List.of(x, y), (in, o) -> in.get(0).backend().binary(op, in.get(0), in.get(1), o));
    }

    @Test
    void binaryInPlaceAccumulates() {
        for (int n : SIZES) {
            double[] acc = values(3, n, -1, 1), x = values(4, n, -1, 1);
            compare("add in place n=" + n, Shape.of(n), DType.F64, 1e-6, List.of(Shape.of(n)), List.of(x), acc,
                    (in, o) -> in.get(0).backend().binary(BinaryOp.ADD, o, in.get(0), o));
        }
    }

    @Test
    void affine() {
        for (int n : SIZES) {
            compare("affine n=" + n, Shape.of(n), DType.F64, 1e-6, List.of(Shape.of(n)), List.of(values(5, n, -2, 2)),
                    (in, o) -> in.get(0).backend().affine(in.get(0), -1.7, 0.3, o));
        }
    }

    @Test
    void fillAndCopy() {
        try (Scope s = Scope.open()) {
            for (int n : SIZES) {
                Tensor t = Tensor.zeros(cuda, DType.F32, Shape.of(n));
                cuda.fill(t, 2.5);
                double[] want = new double[n];
                java.util.Arrays.fill(want, 2.5);
                assertClose(want, cuda.downloadFloats(t), 0, 0, "fill n=" + n);
                Tensor big = Tensor.zeros(cuda, DType.F32, Shape.of(n + 7));
                Tensor view = new Tensor(Shape.of(n), big.storage(), 7);
                double[] v = values(6, n, -1, 1);
                cuda.copy(on(cuda, DType.F32, Shape.of(n), v), view);
                assertClose(v, cuda.downloadFloats(view), 1e-7, 0, "copy into a view n=" + n);
                assertClose(new double[7], cuda.downloadFloats(new Tensor(Shape.of(7), big.storage(), 0)), 0, 0, "copy left the head untouched");
            }
        }
    }

    // ---- reductions -------------------------------------------------------------------------

    static Stream<Arguments> reduceCases() {
        int[][][] cases = {
            {{1}, {1}}, {{4097}, {1}}, {{33, 31}, {1, 31}}, {{33, 31}, {33, 1}}, {{2, 3, 5, 7}, {1, 3, 1, 7}},
            {{1000, 1000}, {1, 1}}, {{64, 128, 32, 32}, {1, 128, 1, 1}}, {{256, 512}, {1, 512}}, {{31, 4097}, {31, 1}},
        };
        List<Arguments> out = new ArrayList<>();
        for (boolean max : new boolean[] {false, true}) for (int[][] c : cases) out.add(Arguments.of(max ? "max" : "sum", Shape.of(c[0]), Shape.of(c[1])));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @MethodSource("reduceCases")
    void reduce(String kind, Shape x, Shape out) {
        double atol = 1e-6 * Math.sqrt((double) x.numel() / out.numel()) * 10;
        compare(kind + " " + x + " -> " + out, out, DType.F64, atol, List.of(x), List.of(values(7, x.numel(), -1, 1)),
                (in, o) -> {
                    if (kind.equals("sum")) in.get(0).backend().sum(in.get(0), o);
                    else in.get(0).backend().max(in.get(0), o);
                });
    }

    // ---- gemm -----------------------------------------------------------------------------------

    static Stream<Arguments> gemmCases() {
        int[][] mnk = {{1, 1, 1}, {31, 33, 1000}, {33, 31, 4097}, {4097, 33, 31}, {1000, 1000, 1000}, {256, 512, 2048}, {128, 1152, 8192}};
        List<Arguments> out = new ArrayList<>();
        for (GemmKernel.Version v : GemmKernel.Version.values()) {
            for (int[] s : mnk) for (int t = 0; t < 4; t++) out.add(Arguments.of(v, s[0], s[1], s[2], t >= 2, (t & 1) == 1));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} M={1} N={2} K={3} tA={4} tB={5}")
    @MethodSource("gemmCases")
    void gemm(GemmKernel.Version v, int m, int n, int k, boolean ta, boolean tb) {
        if (v == GemmKernel.Version.CUBLAS) org.junit.jupiter.api.Assumptions.assumeTrue(cuda.cublas().available(), () -> "skipped: cuBLAS " + cuda.cublas().status());
        if (v == GemmKernel.Version.NAIVE && (long) m * n * k > 1L << 31) return;
        Shape a = ta ? Shape.of(k, m) : Shape.of(m, k), b = tb ? Shape.of(n, k) : Shape.of(k, n);
        compare(v + " gemm " + m + "x" + n + "x" + k, Shape.of(m, n), DType.F64, 2e-5 * Math.sqrt(k), List.of(a, b),
                List.of(values(8, a.numel(), -1, 1), values(9, b.numel(), -1, 1)), (in, o) -> {
                    if (in.get(0).backend() == cuda) cuda.gemmKernel().gemm(v, in.get(0), ta, in.get(1), tb, o);
                    else CPU.gemm(in.get(0), ta, in.get(1), tb, o);
                });
    }

    // ---- conv2d -----------------------------------------------------------------------------------

    /** x (N, Ci, H, W), w (Co, Ci, K, K), stride, padding; the last two are the MKDT student's layers. */
    static Stream<Arguments> convCases() {
        return Stream.of(
                Arguments.of(new int[] {2, 3, 5, 7}, new int[] {4, 3, 3, 3}, 1, 1),
                Arguments.of(new int[] {1, 1, 1, 1}, new int[] {1, 1, 1, 1}, 1, 0),
                Arguments.of(new int[] {2, 3, 7, 6}, new int[] {4, 3, 3, 3}, 2, 1),
                Arguments.of(new int[] {2, 3, 5, 6}, new int[] {4, 3, 1, 1}, 2, 0),
                Arguments.of(new int[] {3, 5, 33, 31}, new int[] {7, 5, 5, 5}, 1, 2),
                Arguments.of(new int[] {16, 3, 32, 32}, new int[] {128, 3, 3, 3}, 1, 1),
                Arguments.of(new int[] {30, 128, 32, 32}, new int[] {128, 128, 3, 3}, 1, 1));
    }

    /** Every case under both algorithms (the implicit one falls back to im2col for a data gradient at stride 2). */
    static Stream<Arguments> convCasesByAlgorithm() {
        return convCases().flatMap(c -> Stream.of(ConvAlgorithm.values()).map(a -> {
            Object[] args = c.get();
            return Arguments.of(a, args[0], args[1], args[2], args[3]);
        }));
    }

    @ParameterizedTest(name = "{0} x {1} w {2} stride {3} pad {4}")
    @MethodSource("convCasesByAlgorithm")
    void conv2d(ConvAlgorithm algorithm, int[] xs, int[] ws, int stride, int pad) {
        ConvAlgorithm old = cuda.convAlgorithm(algorithm);
        try {
            conv2dAgainstTheCpu(xs, ws, stride, pad);
        } finally {
            cuda.convAlgorithm(old);
        }
    }

    /**
     * The header's claim for kernels/conv2d_igemm.cu: with the tiled GEMM the implicit forward pass
     * computes the same sums in the same order as im2col + GEMM + the bias pass, so the same bits;
     * the data gradient (another summation order) agrees within float32 rounding.
     */
    @ParameterizedTest(name = "x {0} w {1} stride {2} pad {3}")
    @MethodSource("convCases")
    void implicitForwardHasTheBitsOfIm2col(int[] xs, int[] ws, int stride, int pad) {
        org.junit.jupiter.api.Assumptions.assumeTrue(cuda.gemmKernel().defaultVersion() == GemmKernel.Version.TILED,
                "im2col runs its GEMM on cuBLAS here, whose sums are not the tiled kernel's");
        ConvGeometry geo = new ConvGeometry(stride, pad);
        Shape x = Shape.of(xs), w = Shape.of(ws), y = Shape.of(xs[0], ws[0], geo.out(xs[2], ws[2]), geo.out(xs[3], ws[3]));
        float[][] out = new float[2][];
        try (Scope sc = Scope.open()) {
            Tensor gx = on(cuda, DType.F32, x, values(20, x.numel(), -1, 1)), gw = on(cuda, DType.F32, w, values(21, w.numel(), -1, 1));
            Tensor gb = on(cuda, DType.F32, Shape.of(ws[0]), values(22, ws[0], -1, 1));
            ConvAlgorithm old = cuda.convAlgorithm();
            try {
                for (ConvAlgorithm a : ConvAlgorithm.values()) {
                    cuda.convAlgorithm(a);
                    Tensor gy = Tensor.zeros(cuda, DType.F32, y);
                    cuda.fill(gy, Float.NaN);
                    cuda.conv2d(gx, gw, gb, geo, gy);
                    out[a.ordinal()] = cuda.downloadFloats(gy);
                }
            } finally {
                cuda.convAlgorithm(old);
            }
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(out[ConvAlgorithm.IM2COL.ordinal()], out[ConvAlgorithm.IMPLICIT.ordinal()],
                "implicit vs im2col forward, x " + x + " w " + w);
    }

    private void conv2dAgainstTheCpu(int[] xs, int[] ws, int stride, int pad) {
        ConvGeometry geo = new ConvGeometry(stride, pad);
        Shape x = Shape.of(xs), w = Shape.of(ws);
        Shape y = Shape.of(xs[0], ws[0], geo.out(xs[2], ws[2]), geo.out(xs[3], ws[3]));
        boolean large = x.numel() > 100_000;
        DType ref = large ? DType.F32 : DType.F64;
        int taps = ws[1] * ws[2] * ws[3];
        double[] xv = values(10, x.numel(), -1, 1), wv = values(11, w.numel(), -1, 1), bv = values(12, ws[0], -1, 1), dyv = values(13, y.numel(), -1, 1);
        compare("conv2d " + x + " " + w, y, ref, 2e-5 * Math.sqrt(taps), List.of(x, w, Shape.of(ws[0])), List.of(xv, wv, bv),
                (in, o) -> in.get(0).backend().conv2d(in.get(0), in.get(1), in.get(2), geo, o));
        compare("conv2dDataGrad " + y + " " + w, x, ref, 2e-5 * Math.sqrt(ws[0] * ws[2] * ws[3]), List.of(y, w), List.of(dyv, wv),
                (in, o) -> in.get(0).backend().conv2dDataGrad(in.get(0), in.get(1), geo, o));
        compare("conv2dWeightGrad " + x + " " + y, w, ref, 2e-5 * Math.sqrt((double) xs[0] * y.dim(2) * y.dim(3)), List.of(x, y), List.of(xv, dyv),
                (in, o) -> in.get(0).backend().conv2dWeightGrad(in.get(0), in.get(1), geo, o));
    }

    // ---- avgpool2, rows, sgd, instance norm ----------------------------------------------------------

    @Test
    void avgPool2() {
        int[][] shapes = {{1, 1, 2, 2}, {2, 3, 6, 10}, {3, 5, 32, 32}, {64, 128, 32, 32}};
        for (int[] s : shapes) {
            Shape x = Shape.of(s), y = Shape.of(s[0], s[1], s[2] / 2, s[3] / 2);
            compare("avgPool2 " + x, y, DType.F64, 1e-6, List.of(x), List.of(values(14, x.numel(), -1, 1)), (in, o) -> in.get(0).backend().avgPool2(in.get(0), o));
            compare("avgPool2Grad " + y, x, DType.F64, 1e-6, List.of(y), List.of(values(15, y.numel(), -1, 1)), (in, o) -> in.get(0).backend().avgPool2Grad(in.get(0), o));
        }
    }

    @Test
    void gatherAndScatterAddRows() {
        int[][] cases = {{1, 1, 1}, {31, 33, 40}, {1000, 7, 4097}, {5, 4097, 12}}; // rows M, row length R, len(idx)
        for (int[] c : cases) {
            int m = c[0], r = c[1], len = c[2];
            int[] idx = new int[len];
            double[] u = values(16 + m, len, 0, 1);
            for (int i = 0; i < len; i++) idx[i] = Math.min(m - 1, (int) (u[i] * m)); // duplicates when len > m
            compare("gatherRows M=" + m + " R=" + r + " idx=" + len, Shape.of(len, r), DType.F64, 0, List.of(Shape.of(m, r)), List.of(values(17, m * r, -1, 1)),
                    (in, o) -> in.get(0).backend().gatherRows(in.get(0), idx, o));
            compare("scatterAddRows M=" + m + " R=" + r + " idx=" + len, Shape.of(m, r), DType.F64, 1e-5, List.of(Shape.of(len, r)),
                    List.of(values(18, len * r, -1, 1)), values(19, m * r, -1, 1), (in, o) -> in.get(0).backend().scatterAddRows(in.get(0), idx, o));
        }
    }

    @Test
    void sgdStep() {
        for (int n : new int[] {1, 31, 33, 1000, 4097, 1_348_608}) {
            for (boolean first : new boolean[] {true, false}) {
                double[] theta = values(20, n, -1, 1), grad = values(21, n, -1, 1), buf = values(22, n, -1, 1);
                try (Scope s = Scope.open()) {
                    Tensor[] c = {on(CPU, DType.F64, Shape.of(n), theta), on(CPU, DType.F64, Shape.of(n), grad), on(CPU, DType.F64, Shape.of(n), buf)};
                    Tensor[] g = {on(cuda, DType.F32, Shape.of(n), theta), on(cuda, DType.F32, Shape.of(n), grad), on(cuda, DType.F32, Shape.of(n), buf)};
                    CPU.sgdStep(c[0], c[1], c[2], 0.1, 0.9, 5e-4, first);
                    cuda.sgdStep(g[0], g[1], g[2], 0.1, 0.9, 5e-4, first);
                    assertClose(c[0].toDoubleArray(), cuda.downloadFloats(g[0]), 1e-6, Close.F32_RTOL, "sgd theta n=" + n + " first=" + first);
                    assertClose(c[2].toDoubleArray(), cuda.downloadFloats(g[2]), 1e-6, Close.F32_RTOL, "sgd momentum n=" + n + " first=" + first);
                }
            }
        }
    }

    @Test
    void instanceNormForwardBackwardAndSecondOrder() {
        int[][] shapes = {{1, 1, 1, 1}, {2, 3, 5, 7}, {4, 5, 33, 31}, {2, 3, 64, 64}, {64, 128, 32, 32}};
        for (int[] s : shapes) {
            Shape x = Shape.of(s), planes = Shape.of(s[0], s[1], 1, 1);
            double[] xv = values(23, x.numel(), -2, 3), gv = values(24, x.numel(), -1, 1), uv = values(25, x.numel(), -1, 1);
            try (Scope sc = Scope.open()) {
                Tensor cx = on(CPU, DType.F64, x, xv), gx = on(cuda, DType.F32, x, xv);
                Tensor cxh = Tensor.zeros(CPU, DType.F64, x), crs = Tensor.zeros(CPU, DType.F64, planes);
                Tensor gxh = Tensor.zeros(cuda, DType.F32, x), grs = Tensor.zeros(cuda, DType.F32, planes);
                CPU.instanceNorm(cx, 1e-5, cxh, crs);
                cuda.instanceNorm(gx, 1e-5, gxh, grs);
                assertClose(cxh.toDoubleArray(), cuda.downloadFloats(gxh), 1e-5, Close.F32_RTOL, "instanceNorm xhat " + x);
                assertClose(crs.toDoubleArray(), cuda.downloadFloats(grs), 1e-5, Close.F32_RTOL, "instanceNorm rstd " + x);
                // Backward and second order from the same (float32-rounded) xhat and rstd on both sides.
                double[] xh = cuda.downloadDoubles(gxh), rs = cuda.downloadDoubles(grs);
                Tensor cg = on(CPU, DType.F64, x, gv), cu = on(CPU, DType.F64, x, uv), cxh2 = on(CPU, DType.F64, x, xh), crs2 = on(CPU, DType.F64, planes, rs);
                Tensor gg = on(cuda, DType.F32, x, gv), gu = on(cuda, DType.F32, x, uv);
                Tensor cdx = Tensor.zeros(CPU, DType.F64, x), gdx = Tensor.zeros(cuda, DType.F32, x);
                CPU.instanceNormGrad(cg, cxh2, crs2, cdx);
                cuda.instanceNormGrad(gg, gxh, grs, gdx);
                double scale = max(rs);
                assertClose(cdx.toDoubleArray(), cuda.downloadFloats(gdx), 1e-5 * scale, Close.F32_RTOL, "instanceNormGrad " + x);
                Tensor cdd = Tensor.zeros(CPU, DType.F64, x), gdd = Tensor.zeros(cuda, DType.F32, x);
                CPU.instanceNormGradGrad(cu, cg, cxh2, crs2, cdd);
                cuda.instanceNormGradGrad(gu, gg, gxh, grs, gdd);
                assertClose(cdd.toDoubleArray(), cuda.downloadFloats(gdd), 1e-5 * scale * scale, Close.F32_RTOL, "instanceNormGradGrad " + x);
            }
        }
    }

    private static double max(double[] v) {
        double m = 0;
        for (double x : v) m = Math.max(m, Math.abs(x));
        return m;
    }
}
