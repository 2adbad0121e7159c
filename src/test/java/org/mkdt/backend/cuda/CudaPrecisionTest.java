package org.mkdt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mkdt.testing.Close.assertClose;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;
import org.mkdt.testing.Cuda;

/**
 * The tensor-core precisions of the tiled GEMM and the implicit-GEMM convolutions
 * (kernels/gemm_tile.cuh) against the CPU in float64, NaN-poisoned outputs, at ragged sizes
 * and the student's layers:
 * <ul>
 *   <li>TF32X3 is held to the float32 tier: atol 2e-5 sqrt(K), rtol 1e-4, as FP32 is;</li>
 *   <li>TF32 to its own, looser tier: atol 1e-3 sqrt(K), rtol 1e-3 (operands of 10 mantissa
 *       bits: each product off by up to about 2^-10 of itself);</li>
 *   <li>and the split must be what makes the difference: on one product, TF32X3's largest error
 *       is within 4x FP32's and at least 20x below TF32's.</li>
 * </ul>
 * On the emulator the MMA is its C++ model of mma.sync (kernels/gemm_tile.cuh, mma_tf32), so
 * these check the fragment layouts, the split and every epilogue; a GPU checks the silicon.
 */
@Tag("cuda")
class CudaPrecisionTest {
    private static final CpuBackend CPU = new CpuBackend();
    private CudaBackend cuda;

    @BeforeEach
    void device() {
        cuda = Cuda.backendOrSkip();
    }

    /** The absolute tolerance per unit sqrt(K) of each tier. */
    private static double atolPerSqrtK(Precision p) {
        return p == Precision.TF32 ? 1e-3 : 2e-5;
    }

    private static double rtol(Precision p) {
        return p == Precision.TF32 ? 1e-3 : Close.F32_RTOL;
    }

    /** Runs {@code op} at precision p (and convolution algorithm a), restoring both afterwards. */
    private void at(Precision p, ConvAlgorithm a, Runnable op) {
        Precision oldP = cuda.precision(p);
        ConvAlgorithm oldA = cuda.convAlgorithm(a);
        try {
            op.run();
        } finally {
            cuda.precision(oldP);
            cuda.convAlgorithm(oldA);
        }
    }

    private Tensor poisoned(Shape s) {
        Tensor t = Tensor.zeros(cuda, DType.F32, s);
        cuda.fill(t, Double.NaN);
        return t;
    }

    static Stream<Arguments> gemmCases() {
        int[][] mnk = {{1, 1, 1}, {33, 31, 70}, {130, 257, 129}, {256, 512, 2048}};
        List<Arguments> out = new ArrayList<>();
        for (Precision p : new Precision[] {Precision.TF32X3, Precision.TF32}) {
            for (int[] s : mnk) for (int t = 0; t < 4; t++) out.add(Arguments.of(p, s[0], s[1], s[2], t >= 2, (t & 1) == 1));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} M={1} N={2} K={3} tA={4} tB={5}")
    @MethodSource("gemmCases")
    void tiledGemm(Precision p, int m, int n, int k, boolean ta, boolean tb) {
        Shape a = ta ? Shape.of(k, m) : Shape.of(m, k), b = tb ? Shape.of(n, k) : Shape.of(k, n);
        double[] av = CudaKernelsTest.values(50, a.numel(), -1, 1), bv = CudaKernelsTest.values(51, b.numel(), -1, 1);
        try (Scope sc = Scope.open()) {
            Tensor ref = Tensor.zeros(CPU, DType.F64, Shape.of(m, n));
            CPU.gemm(Tensor.of(CPU, DType.F64, a, av), ta, Tensor.of(CPU, DType.F64, b, bv), tb, ref);
            Tensor out = poisoned(Shape.of(m, n));
            at(p, cuda.convAlgorithm(), () -> cuda.gemmKernel().gemm(GemmKernel.Version.TILED, Tensor.of(cuda, DType.F32, a, av), ta,
                    Tensor.of(cuda, DType.F32, b, bv), tb, out));
            assertClose(ref.toDoubleArray(), cuda.downloadFloats(out), atolPerSqrtK(p) * Math.sqrt(k), rtol(p), p + " gemm " + m + "x" + n + "x" + k);
        }
    }

    /** Batched products (S students on gridDim.z beside the K slices), every transposition. */
    @ParameterizedTest(name = "{0} tA={1} tB={2}")
    @MethodSource("batchedCases")
    void batchedTiledGemm(Precision p, boolean ta, boolean tb) {
        int s = 2, m = 5, n = 4, k = 7;
        Shape a = ta ? Shape.of(s, k, m) : Shape.of(s, m, k), b = tb ? Shape.of(s, n, k) : Shape.of(s, k, n), o = Shape.of(s, m, n);
        double[] av = CudaKernelsTest.values(58, a.numel(), -1, 1), bv = CudaKernelsTest.values(59, b.numel(), -1, 1);
        try (Scope sc = Scope.open()) {
            Tensor ref = Tensor.zeros(CPU, DType.F64, o);
            CPU.gemm(Tensor.of(CPU, DType.F64, a, av), ta, Tensor.of(CPU, DType.F64, b, bv), tb, ref);
            Tensor out = poisoned(o);
            at(p, cuda.convAlgorithm(), () -> cuda.gemm(Tensor.of(cuda, DType.F32, a, av), ta, Tensor.of(cuda, DType.F32, b, bv), tb, out));
            assertClose(ref.toDoubleArray(), cuda.downloadFloats(out), atolPerSqrtK(p) * Math.sqrt(k), rtol(p), p + " batched gemm");
        }
    }

    static Stream<Arguments> batchedCases() {
        List<Arguments> out = new ArrayList<>();
        for (Precision p : new Precision[] {Precision.TF32X3, Precision.TF32}) for (int t = 0; t < 4; t++) out.add(Arguments.of(p, t >= 2, (t & 1) == 1));
        return out.stream();
    }

    @Test
    void threeTf32IsFloat32GradeAndTheSplitIsWhatMakesIt() {
        int m = 130, n = 257, k = 1000;
        double[] av = CudaKernelsTest.values(52, m * k, -1, 1), bv = CudaKernelsTest.values(53, k * n, -1, 1);
        try (Scope sc = Scope.open()) {
            Tensor ref = Tensor.zeros(CPU, DType.F64, Shape.of(m, n));
            CPU.gemm(Tensor.of(CPU, DType.F64, Shape.of(m, k), av), false, Tensor.of(CPU, DType.F64, Shape.of(k, n), bv), false, ref);
            double[] r = ref.toDoubleArray();
            double[] err = new double[Precision.values().length];
            for (Precision p : Precision.values()) {
                Tensor out = poisoned(Shape.of(m, n));
                at(p, cuda.convAlgorithm(), () -> cuda.gemmKernel().gemm(GemmKernel.Version.TILED, Tensor.of(cuda, DType.F32, Shape.of(m, k), av), false,
                        Tensor.of(cuda, DType.F32, Shape.of(k, n), bv), false, out));
                float[] o = cuda.downloadFloats(out);
                for (int i = 0; i < r.length; i++) err[p.ordinal()] = Math.max(err[p.ordinal()], Math.abs(o[i] - r[i]));
            }
            double fp32 = err[Precision.FP32.ordinal()], x3 = err[Precision.TF32X3.ordinal()], tf32 = err[Precision.TF32.ordinal()];
            String what = String.format("largest error: FP32 %.3g, TF32X3 %.3g, TF32 %.3g", fp32, x3, tf32);
            assertTrue(x3 <= 4 * fp32, what + " (TF32X3 must be float32-grade)");
            assertTrue(tf32 >= 20 * x3, what + " (the split must recover the bits TF32 drops)");
        }
    }

    /**
     * What MKDT runs through the tile, under TF32X3, within the float32 check's 1e-4 of the CPU
     * in float64 (value, gradient and second-order term): every convolution op and the student,
     * one and batched. (Of the whole catalogue one value misses at this seed: the batched
     * a^T b^T matmul's random-weighted sum, an ill-conditioned scalar that FP32 itself gets only
     * to 2.0e-5; TF32X3 1.2e-4. BENCHMARKS.md, 2026-12-04.)
     */
    @Test
    void threeTf32KeepsTheConvolutionsAndTheStudentWithinTheFloat32Check() {
        StringBuilder failed = new StringBuilder();
        int checked = 0;
        for (org.mkdt.check.OpCase c : org.mkdt.check.OpCatalog.all()) {
            if (!(c.name().startsWith("conv2d") || c.name().startsWith("student") || c.name().startsWith("batched students"))) continue;
            checked++;
            org.mkdt.check.DeviceCheck.Result[] r = new org.mkdt.check.DeviceCheck.Result[1];
            at(Precision.TF32X3, cuda.convAlgorithm(), () -> r[0] = org.mkdt.check.DeviceCheck.check(c, cuda, DType.F32, 5));
            if (!r[0].passed()) failed.append(String.format("%n  %s: %.2e %.2e %.2e", c.name(), r[0].valueError(), r[0].firstOrderError(), r[0].secondOrderError()));
        }
        assertTrue(checked >= 9, "the catalogue has the convolutions and the student (" + checked + " found)");
        assertTrue(failed.length() == 0, "ops beyond " + org.mkdt.check.DeviceCheck.TOLERANCE + " under TF32X3:" + failed);
    }

    /** x (N, Ci, H, W), w (Co, Ci, K, K), stride, padding: ragged sizes and two of the student's layers. */
    static Stream<Arguments> convCases() {
        List<Arguments> out = new ArrayList<>();
        int[][][] cases = {
            {{2, 3, 5, 7}, {4, 3, 3, 3}, {1, 1}},
            {{2, 16, 9, 9}, {20, 16, 3, 3}, {1, 1}},
            {{2, 3, 7, 6}, {4, 3, 3, 3}, {2, 1}},
            {{4, 3, 32, 32}, {128, 3, 3, 3}, {1, 1}},
            {{3, 128, 8, 8}, {128, 128, 3, 3}, {1, 1}},
        };
        for (Precision p : new Precision[] {Precision.TF32X3, Precision.TF32}) {
            for (ConvAlgorithm a : ConvAlgorithm.values()) for (int[][] c : cases) out.add(Arguments.of(p, a, c[0], c[1], c[2][0], c[2][1]));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} x {2} w {3} stride {4} pad {5}")
    @MethodSource("convCases")
    void convolution(Precision p, ConvAlgorithm a, int[] xs, int[] ws, int stride, int pad) {
        ConvGeometry geo = new ConvGeometry(stride, pad);
        Shape x = Shape.of(xs), w = Shape.of(ws), bias = Shape.of(ws[0]);
        Shape y = Shape.of(xs[0], ws[0], geo.out(xs[2], ws[2]), geo.out(xs[3], ws[3]));
        double[] xv = CudaKernelsTest.values(54, x.numel(), -1, 1), wv = CudaKernelsTest.values(55, w.numel(), -1, 1);
        double[] bv = CudaKernelsTest.values(56, ws[0], -1, 1), dyv = CudaKernelsTest.values(57, y.numel(), -1, 1);
        String what = p + " " + a + " x " + x + " w " + w;
        try (Scope sc = Scope.open()) {
            Tensor cx = Tensor.of(CPU, DType.F64, x, xv), cw = Tensor.of(CPU, DType.F64, w, wv), cdy = Tensor.of(CPU, DType.F64, y, dyv);
            Tensor cy = Tensor.zeros(CPU, DType.F64, y), cdx = Tensor.zeros(CPU, DType.F64, x), cdw = Tensor.zeros(CPU, DType.F64, w);
            CPU.conv2d(cx, cw, Tensor.of(CPU, DType.F64, bias, bv), geo, cy);
            CPU.conv2dDataGrad(cdy, cw, geo, cdx);
            CPU.conv2dWeightGrad(cx, cdy, geo, cdw);
            Tensor gx = Tensor.of(cuda, DType.F32, x, xv), gw = Tensor.of(cuda, DType.F32, w, wv), gdy = Tensor.of(cuda, DType.F32, y, dyv);
            Tensor gy = poisoned(y), gdx = poisoned(x), gdw = poisoned(w);
            Consumer<Runnable> run = op -> at(p, a, op);
            run.accept(() -> cuda.conv2d(gx, gw, Tensor.of(cuda, DType.F32, bias, bv), geo, gy));
            run.accept(() -> cuda.conv2dDataGrad(gdy, gw, geo, gdx));
            run.accept(() -> cuda.conv2dWeightGrad(gx, gdy, geo, gdw));
            double kForward = ws[1] * ws[2] * ws[3], kData = ws[0] * ws[2] * ws[3], kWeight = (double) xs[0] * y.dim(2) * y.dim(3);
            assertClose(cy.toDoubleArray(), cuda.downloadFloats(gy), atolPerSqrtK(p) * Math.sqrt(kForward), rtol(p), "conv2d " + what);
            assertClose(cdx.toDoubleArray(), cuda.downloadFloats(gdx), atolPerSqrtK(p) * Math.sqrt(kData), rtol(p), "conv2dDataGrad " + what);
            assertClose(cdw.toDoubleArray(), cuda.downloadFloats(gdw), atolPerSqrtK(p) * Math.sqrt(kWeight), rtol(p), "conv2dWeightGrad " + what);
        }
    }
}
