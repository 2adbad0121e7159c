package org.mkdt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mkdt.testing.Close.assertClose;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mkdt.backend.Batched;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;
import org.mkdt.testing.Cuda;

/**
 * The batched primitives (S students in one launch) and the fused reluPool2 / adjointStep
 * kernels, against the CPU backend and against S unbatched CUDA calls. What each comparison
 * expects:
 * <ul>
 *   <li>batched GEMM vs S unbatched GEMMs of the same version: the same bits for NAIVE, and for
 *       TILED when both take the same number of K slices (a batch's split count is a power of
 *       two, GemmKernel.splits); otherwise, and for cuBLAS, within float32 rounding;</li>
 *   <li>batched conv2d and conv2dDataGrad vs unbatched: the same bits with the tiled GEMM
 *       (every output is the same sum whatever the grouping); conv2dWeightGrad within float32
 *       rounding (its sum over images is grouped and split differently);</li>
 *   <li>everything vs the CPU within float32 tolerance (as CudaKernelsTest), except reluPool2 /
 *       reluPool2Grad, which match the float32 CPU bit for bit, and adjointStep's dAlpha, also
 *       bit for bit (a float subtraction).</li>
 * </ul>
 * Device outputs are poisoned with NaN first, so an element a kernel forgets fails.
 */
@Tag("cuda")
class CudaBatchedTest {
    private static final CpuBackend CPU = new CpuBackend();
    private static final int S = 3;
    private CudaBackend cuda;

    @BeforeEach
    void device() {
        cuda = Cuda.backendOrSkip();
    }

    // ---- helpers --------------------------------------------------------------------------

    private static double[] values(long seed, int n) {
        return CudaKernelsTest.values(seed, n, -1, 1);
    }

    private static Shape batched(int s, Shape one) {
        int[] d = one.dims(), out = new int[d.length + 1];
        out[0] = s;
        System.arraycopy(d, 0, out, 1, d.length);
        return Shape.of(out);
    }

    private Tensor dev(Shape s, double[] v) {
        return Tensor.of(cuda, DType.F32, s, v);
    }

    private Tensor poisoned(Shape s) {
        Tensor t = Tensor.zeros(cuda, DType.F32, s);
        cuda.fill(t, Double.NaN);
        return t;
    }

    private static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < d.length; i++) d[i] = f[i];
        return d;
    }

    // ---- batched gemm ---------------------------------------------------------------------------

    static Stream<Arguments> gemmCases() {
        // Ragged sizes; 128x1152x4096 splits K the same way batched and unbatched (8 slices),
        // 128x256x3000 does not (4 slices batched, 5 unbatched).
        int[][] mnk = {{1, 1, 1}, {31, 33, 1000}, {33, 31, 4097}, {129, 65, 7}, {128, 1152, 4096}, {128, 256, 3000}};
        List<Arguments> out = new ArrayList<>();
        for (GemmKernel.Version v : GemmKernel.Version.values()) {
            for (int[] s : mnk) for (int t = 0; t < 4; t++) out.add(Arguments.of(v, s[0], s[1], s[2], t >= 2, (t & 1) == 1));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} S=3 M={1} N={2} K={3} tA={4} tB={5}")
    @MethodSource("gemmCases")
    void batchedGemm(GemmKernel.Version v, int m, int n, int k, boolean ta, boolean tb) {
        if (v == GemmKernel.Version.CUBLAS) Assumptions.assumeTrue(cuda.cublas().available(), () -> "skipped: cuBLAS " + cuda.cublas().status());
        Shape a1 = ta ? Shape.of(k, m) : Shape.of(m, k), b1 = tb ? Shape.of(n, k) : Shape.of(k, n);
        Shape a = batched(S, a1), b = batched(S, b1), o = batched(S, Shape.of(m, n));
        double[] av = values(30, a.numel()), bv = values(31, b.numel());
        DType ref = (long) S * m * n * k > 50_000_000L ? DType.F32 : DType.F64;
        String what = v + " batched gemm S=" + S + " " + m + "x" + n + "x" + k + " tA=" + ta + " tB=" + tb;
        double atol = 2e-5 * Math.sqrt(k);
        try (Scope sc = Scope.open()) {
            Tensor co = Tensor.zeros(CPU, ref, o);
            CPU.gemm(Tensor.of(CPU, ref, a, av), ta, Tensor.of(CPU, ref, b, bv), tb, co);
            Tensor ga = dev(a, av), gb = dev(b, bv), go = poisoned(o);
            cuda.gemmKernel().gemm(v, ga, ta, gb, tb, go);
            float[] got = cuda.downloadFloats(go);
            assertClose(co.toDoubleArray(), got, atol, Close.F32_RTOL, what + " vs CPU");

            Tensor gu = poisoned(o);
            for (int s = 0; s < S; s++) cuda.gemmKernel().gemm(v, Batched.slice(ga, s), ta, Batched.slice(gb, s), tb, Batched.slice(gu, s));
            float[] one = cuda.downloadFloats(gu);
            boolean sameSums = v == GemmKernel.Version.NAIVE || (v == GemmKernel.Version.TILED && GemmKernel.splits(S, m, n, k) == GemmKernel.splits(m, n, k));
            if (sameSums) assertArrayEquals(one, got, what + " vs " + S + " unbatched calls (same sums: same bits)");
            else assertClose(doubles(one), got, atol, Close.F32_RTOL, what + " vs " + S + " unbatched calls");
        }
    }

    /** More students than gridDim.z may hold (65535): the launches are chunked; tiny products keep it cheap. */
    @Test
    void batchedGemmBeyondTheGridLimitIsChunked() {
        int students = 65_537;
        Shape a = batched(students, Shape.of(2, 5)), b = batched(students, Shape.of(5, 3)), o = batched(students, Shape.of(2, 3));
        double[] av = values(34, a.numel()), bv = values(35, b.numel());
        try (Scope sc = Scope.open()) {
            Tensor co = Tensor.zeros(CPU, DType.F64, o);
            CPU.gemm(Tensor.of(CPU, DType.F64, a, av), false, Tensor.of(CPU, DType.F64, b, bv), false, co);
            for (GemmKernel.Version v : new GemmKernel.Version[] {GemmKernel.Version.NAIVE, GemmKernel.Version.TILED}) {
                Tensor go = poisoned(o);
                cuda.gemmKernel().gemm(v, dev(a, av), false, dev(b, bv), false, go);
                assertClose(co.toDoubleArray(), cuda.downloadFloats(go), 2e-5 * Math.sqrt(5), Close.F32_RTOL, v + " gemm with " + students + " students");
            }
        }
    }

    /** The same for the convolution's student axis on gridDim.y (1x1 images, with a bias). */
    @Test
    void batchedConvBeyondTheGridLimitIsChunked() {
        int students = 65_537;
        ConvGeometry geo = new ConvGeometry(1, 0);
        Shape x = Shape.of(students, 1, 2, 1, 1), w = Shape.of(students, 3, 2, 1, 1), y = Shape.of(students, 1, 3, 1, 1), bias = Shape.of(students, 3);
        double[] xv = values(36, x.numel()), wv = values(37, w.numel()), bv = values(38, bias.numel());
        try (Scope sc = Scope.open()) {
            Tensor cy = Tensor.zeros(CPU, DType.F64, y);
            CPU.conv2d(Tensor.of(CPU, DType.F64, x, xv), Tensor.of(CPU, DType.F64, w, wv), Tensor.of(CPU, DType.F64, bias, bv), geo, cy);
            Tensor gy = poisoned(y);
            cuda.conv2d(dev(x, xv), dev(w, wv), dev(bias, bv), geo, gy);
            assertClose(cy.toDoubleArray(), cuda.downloadFloats(gy), 1e-5, Close.F32_RTOL, "conv2d with " + students + " students");
        }
    }

    @Test
    void backendGemmDispatchesOnRank() {
        Shape a = batched(S, Shape.of(33, 70)), b = batched(S, Shape.of(70, 31)), o = batched(S, Shape.of(33, 31));
        double[] av = values(32, a.numel()), bv = values(33, b.numel());
        try (Scope sc = Scope.open()) {
            Tensor co = Tensor.zeros(CPU, DType.F64, o), go = poisoned(o);
            CPU.gemm(Tensor.of(CPU, DType.F64, a, av), false, Tensor.of(CPU, DType.F64, b, bv), false, co);
            cuda.gemm(dev(a, av), false, dev(b, bv), false, go);
            assertClose(co.toDoubleArray(), cuda.downloadFloats(go), 2e-5 * Math.sqrt(70), Close.F32_RTOL, "CudaBackend.gemm batched");
        }
    }

    // ---- batched conv2d -------------------------------------------------------------------------

    /** Students, x (N, Ci, H, W) and w (Co, Ci, K, K) of each, stride, padding. */
    static Stream<Arguments> convCases() {
        return Stream.of(
                Arguments.of(3, new int[] {2, 3, 5, 7}, new int[] {4, 3, 3, 3}, 1, 1),
                Arguments.of(3, new int[] {3, 5, 9, 8}, new int[] {6, 5, 3, 3}, 2, 1),
                Arguments.of(3, new int[] {5, 3, 6, 6}, new int[] {4, 3, 1, 1}, 1, 0),
                Arguments.of(1, new int[] {3, 5, 33, 31}, new int[] {7, 5, 5, 5}, 1, 2),
                // Weight gradient with K slices per group (several groups under the smaller workspaces).
                Arguments.of(2, new int[] {8, 8, 32, 32}, new int[] {16, 8, 3, 3}, 1, 1),
                Arguments.of(4, new int[] {6, 16, 16, 16}, new int[] {32, 16, 3, 3}, 1, 1));
    }

    /** Every case under both algorithms; the workspaces matter to im2col only (the implicit path has none). */
    static Stream<Arguments> convCasesByAlgorithm() {
        return convCases().flatMap(c -> Stream.of(ConvAlgorithm.values()).map(a -> {
            Object[] args = c.get();
            return Arguments.of(a, args[0], args[1], args[2], args[3], args[4]);
        }));
    }

    @ParameterizedTest(name = "{0} S={1} x {2} w {3} stride {4} pad {5}")
    @MethodSource("convCasesByAlgorithm")
    void batchedConv(ConvAlgorithm algorithm, int students, int[] xs, int[] ws, int stride, int pad) {
        ConvAlgorithm old = cuda.convAlgorithm(algorithm);
        try {
            batchedConvAgainstCpuAndUnbatched(algorithm, students, xs, ws, stride, pad);
        } finally {
            cuda.convAlgorithm(old);
        }
    }

    private void batchedConvAgainstCpuAndUnbatched(ConvAlgorithm algorithm, int students, int[] xs, int[] ws, int stride, int pad) {
        ConvGeometry geo = new ConvGeometry(stride, pad);
        int ho = geo.out(xs[2], ws[2]), wo = geo.out(xs[3], ws[3]);
        Shape x1 = Shape.of(xs), w1 = Shape.of(ws), y1 = Shape.of(xs[0], ws[0], ho, wo);
        Shape x = batched(students, x1), w = batched(students, w1), y = batched(students, y1), bias = Shape.of(students, ws[0]);
        double[] xv = values(40, x.numel()), wv = values(41, w.numel()), bv = values(42, bias.numel()), dyv = values(43, y.numel());
        int taps = ws[1] * ws[2] * ws[3];
        double atolY = 2e-5 * Math.sqrt(taps), atolX = 2e-5 * Math.sqrt(ws[0] * ws[2] * ws[3]), atolW = 2e-5 * Math.sqrt((double) xs[0] * ho * wo);
        long perImage = Math.max((long) taps * ho * wo, (long) ws[0] * ho * wo);
        // Default; room for 2 images of each student; 2 images in all (students 2 at a time); 1 image.
        long[] workspaces = algorithm == ConvAlgorithm.IM2COL ? new long[] {Conv2dKernel.WORKSPACE, perImage * students * 2, perImage * 2, perImage}
                : new long[] {Conv2dKernel.WORKSPACE};
        boolean tiled = cuda.gemmKernel().defaultVersion() == GemmKernel.Version.TILED;
        try (Scope sc = Scope.open()) {
            Tensor cx = Tensor.of(CPU, DType.F64, x, xv), cw = Tensor.of(CPU, DType.F64, w, wv), cb = Tensor.of(CPU, DType.F64, bias, bv);
            Tensor cdy = Tensor.of(CPU, DType.F64, y, dyv);
            Tensor cy = Tensor.zeros(CPU, DType.F64, y), cyn = Tensor.zeros(CPU, DType.F64, y);
            Tensor cdx = Tensor.zeros(CPU, DType.F64, x), cdw = Tensor.zeros(CPU, DType.F64, w);
            CPU.conv2d(cx, cw, cb, geo, cy);
            CPU.conv2d(cx, cw, null, geo, cyn);
            CPU.conv2dDataGrad(cdy, cw, geo, cdx);
            CPU.conv2dWeightGrad(cx, cdy, geo, cdw);

            Tensor gx = dev(x, xv), gw = dev(w, wv), gb = dev(bias, bv), gdy = dev(y, dyv);
            // S unbatched CUDA calls on the slices, default workspace.
            Tensor uy = poisoned(y), uyn = poisoned(y), udx = poisoned(x), udw = poisoned(w);
            for (int s = 0; s < students; s++) {
                cuda.conv2d(Batched.slice(gx, s), Batched.slice(gw, s), Batched.slice(gb, s), geo, Batched.slice(uy, s));
                cuda.conv2d(Batched.slice(gx, s), Batched.slice(gw, s), null, geo, Batched.slice(uyn, s));
                cuda.conv2dDataGrad(Batched.slice(gdy, s), Batched.slice(gw, s), geo, Batched.slice(udx, s));
                cuda.conv2dWeightGrad(Batched.slice(gx, s), Batched.slice(gdy, s), geo, Batched.slice(udw, s));
            }
            float[] oneY = cuda.downloadFloats(uy), oneYn = cuda.downloadFloats(uyn), oneDx = cuda.downloadFloats(udx), oneDw = cuda.downloadFloats(udw);

            for (long space : workspaces) {
                String what = "S=" + students + " x " + x1 + " w " + w1 + " workspace " + space + " floats";
                Tensor gy = poisoned(y), gyn = poisoned(y), gdx = poisoned(x), gdw = poisoned(w);
                long old = cuda.conv2d.workspace(space);
                try {
                    cuda.conv2d(gx, gw, gb, geo, gy);
                    cuda.conv2d(gx, gw, null, geo, gyn);
                    cuda.conv2dDataGrad(gdy, gw, geo, gdx);
                    cuda.conv2dWeightGrad(gx, gdy, geo, gdw);
                } finally {
                    cuda.conv2d.workspace(old);
                }
                float[] by = cuda.downloadFloats(gy), byn = cuda.downloadFloats(gyn), bdx = cuda.downloadFloats(gdx), bdw = cuda.downloadFloats(gdw);
                assertClose(cy.toDoubleArray(), by, atolY, Close.F32_RTOL, "conv2d + bias " + what + " vs CPU");
                assertClose(cyn.toDoubleArray(), byn, atolY, Close.F32_RTOL, "conv2d " + what + " vs CPU");
                assertClose(cdx.toDoubleArray(), bdx, atolX, Close.F32_RTOL, "conv2dDataGrad " + what + " vs CPU");
                assertClose(cdw.toDoubleArray(), bdw, atolW, Close.F32_RTOL, "conv2dWeightGrad " + what + " vs CPU");
                if (tiled) {
                    assertArrayEquals(oneY, by, "conv2d + bias " + what + " vs unbatched (same bits)");
                    assertArrayEquals(oneYn, byn, "conv2d " + what + " vs unbatched (same bits)");
                    assertArrayEquals(oneDx, bdx, "conv2dDataGrad " + what + " vs unbatched (same bits)");
                } else {
                    assertClose(doubles(oneY), by, atolY, Close.F32_RTOL, "conv2d + bias " + what + " vs unbatched");
                    assertClose(doubles(oneYn), byn, atolY, Close.F32_RTOL, "conv2d " + what + " vs unbatched");
                    assertClose(doubles(oneDx), bdx, atolX, Close.F32_RTOL, "conv2dDataGrad " + what + " vs unbatched");
                }
                assertClose(doubles(oneDw), bdw, atolW, Close.F32_RTOL, "conv2dWeightGrad " + what + " vs unbatched");
            }
        }
    }

    // ---- reluPool2 ------------------------------------------------------------------------------

    /** Seeded U(-1, 1) floats with exact zeros, negative zeros and NaNs mixed in (masks and signs). */
    private static float[] awkward(long seed, int n) {
        double[] u = values(seed, n);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) u[i];
            if (i % 7 == 3) f[i] = 0f;
            if (i % 11 == 5) f[i] = -0f;
            if (i % 97 == 13) f[i] = Float.NaN;
        }
        return f;
    }

    @Test
    void reluPool2MatchesTheCpuBitForBit() {
        int[][] shapes = {{1, 1, 2, 2}, {2, 3, 6, 10}, {3, 5, 32, 32}, {64, 128, 32, 32}};
        for (int[] sh : shapes) {
            Shape x = Shape.of(sh), y = Shape.of(sh[0], sh[1], sh[2] / 2, sh[3] / 2);
            float[] u = awkward(50, x.numel()), z = awkward(51, x.numel()), dy = awkward(52, y.numel());
            try (Scope sc = Scope.open()) {
                Tensor cu = Tensor.of(CPU, x, u), cz = Tensor.of(CPU, x, z), cdy = Tensor.of(CPU, y, dy);
                Tensor gu = Tensor.of(cuda, x, u), gz = Tensor.of(cuda, x, z), gdy = Tensor.of(cuda, y, dy);

                Shape planes = Shape.of(sh[0], sh[1]);
                float[] scale = awkward(53, planes.numel()), shift = awkward(54, planes.numel());
                Tensor cs = Tensor.of(CPU, planes, scale), ct = Tensor.of(CPU, planes, shift);
                Tensor gs = Tensor.of(cuda, planes, scale), gt = Tensor.of(cuda, planes, shift);
                // (u, x, scale, shift): masked with a given u, pool(relu(x)), and both with the per-plane affine.
                Tensor[][] cpuArgs = {{cu, cz, null, null}, {null, cz, null, null}, {cu, cz, cs, ct}, {null, cz, cs, ct}};
                Tensor[][] gpuArgs = {{gu, gz, null, null}, {null, gz, null, null}, {gu, gz, gs, gt}, {null, gz, gs, gt}};
                for (int k = 0; k < cpuArgs.length; k++) {
                    Tensor co = Tensor.zeros(CPU, DType.F32, y), go = poisoned(y);
                    CPU.reluPool2(cpuArgs[k][0], cpuArgs[k][1], cpuArgs[k][2], cpuArgs[k][3], co);
                    cuda.reluPool2(gpuArgs[k][0], gpuArgs[k][1], gpuArgs[k][2], gpuArgs[k][3], go);
                    assertArrayEquals(co.toFloatArray(), cuda.downloadFloats(go), "reluPool2 case " + k + " " + x);
                    Tensor cdx = Tensor.zeros(CPU, DType.F32, x), gdx = poisoned(x);
                    CPU.reluPool2Grad(cdy, cpuArgs[k][1], cpuArgs[k][2], cpuArgs[k][3], cdx);
                    cuda.reluPool2Grad(gdy, gpuArgs[k][1], gpuArgs[k][2], gpuArgs[k][3], gdx);
                    assertArrayEquals(cdx.toFloatArray(), cuda.downloadFloats(gdx), "reluPool2Grad case " + k + " " + x);
                }
            }
        }
    }

    @Test
    void theFusedReluPool2BackwardMatchesTheCpu() {
        // dx is one rounded product (the bits of the mul op); dscale and dshift are sums in another order (float rounding apart).
        int[][] shapes = {{1, 1, 2, 2}, {2, 3, 6, 10}, {3, 5, 32, 32}, {64, 128, 16, 16}, {1, 2, 64, 66}};
        for (int[] sh : shapes) {
            Shape x = Shape.of(sh), y = Shape.of(sh[0], sh[1], sh[2] / 2, sh[3] / 2), planes = Shape.of(sh[0], sh[1]);
            float[] z = awkward(61, x.numel()), dy = awkward(62, y.numel()), scale = awkward(63, planes.numel()), shift = awkward(64, planes.numel());
            try (Scope sc = Scope.open()) {
                Tensor cdx = Tensor.zeros(CPU, DType.F32, x), cds = Tensor.zeros(CPU, DType.F32, planes), cdt = Tensor.zeros(CPU, DType.F32, planes);
                CPU.reluPool2Backward(Tensor.of(CPU, y, dy), Tensor.of(CPU, x, z), Tensor.of(CPU, planes, scale), Tensor.of(CPU, planes, shift), cdx, cds, cdt);
                Tensor gdx = poisoned(x), gds = poisoned(planes), gdt = poisoned(planes);
                long before = cuda.kernelLaunches();
                cuda.reluPool2Backward(Tensor.of(cuda, y, dy), Tensor.of(cuda, x, z), Tensor.of(cuda, planes, scale), Tensor.of(cuda, planes, shift), gdx, gds, gdt);
                assertEquals(1, cuda.kernelLaunches() - before, "one launch");
                assertArrayEquals(cdx.toFloatArray(), cuda.downloadFloats(gdx), "dx " + x);
                // Tolerance per plane: float rounding of a sum of up to H*W/4 * 4 terms of |r| <= max|dy| / 4 (times |x|).
                float[] es = cds.toFloatArray(), et = cdt.toFloatArray(), as = cuda.downloadFloats(gds), at = cuda.downloadFloats(gdt);
                for (int p = 0; p < es.length; p++) {
                    for (float[] pair : new float[][] {{es[p], as[p]}, {et[p], at[p]}}) {
                        if (Float.isNaN(pair[0])) {
                            assertTrue(Float.isNaN(pair[1]), "plane " + p + " of " + x + ": NaN expected, got " + pair[1]);
                        } else {
                            assertEquals(pair[0], pair[1], 1e-5 * sh[2] * sh[3] + 1e-4 * Math.abs(pair[0]), "plane " + p + " of " + x);
                        }
                    }
                }
            }
        }
    }

    // ---- adjointStep ----------------------------------------------------------------------------

    @Test
    void adjointStepMatchesTheCpu() {
        double alpha = 0.0123456789; // not a float: the kernel's float alpha differs in the last bits
        for (int n : new int[] {0, 1, 31, 33, 1000, 4097, 1_348_608}) {
            for (boolean withS : new boolean[] {false, true}) {
                for (int offset : new int[] {0, 1}) { // 1: a and h not 16-byte aligned, the scalar path
                    if (n == 0 && !withS) continue;
                    String what = "adjointStep n=" + n + " s=" + (withS ? "given" : "null") + " offset=" + offset;
                    double[] a = values(60 + n, n), h = values(61 + n, n);
                    try (Scope sc = Scope.open()) {
                        Tensor ca = Tensor.of(CPU, DType.F32, Shape.of(n), a), ch = Tensor.of(CPU, DType.F32, Shape.of(n), h);
                        Tensor cs = Tensor.of(CPU, DType.F32, Shape.of(1), new double[] {0.37}), cd = Tensor.of(CPU, DType.F32, Shape.of(1), new double[] {-1.25});
                        CPU.adjointStep(ca, ch, alpha, withS ? cs : null, withS ? cd : null);

                        Tensor ba = Tensor.zeros(cuda, DType.F32, Shape.of(n + offset)), bh = Tensor.zeros(cuda, DType.F32, Shape.of(n + offset));
                        Tensor ga = ba.view(Shape.of(n), offset), gh = bh.view(Shape.of(n), offset);
                        cuda.upload(ga, a);
                        cuda.upload(gh, h);
                        Tensor gs = dev(Shape.of(1), new double[] {0.37}), gd = dev(Shape.of(1), new double[] {-1.25});
                        cuda.adjointStep(ga, gh, alpha, withS ? gs : null, withS ? gd : null);
                        assertClose(ca.toDoubleArray(), cuda.downloadFloats(ga), 1e-6, Close.F32_RTOL, what + ": a");
                        float want = withS ? cd.toFloatArray()[0] : -1.25f;
                        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(cuda.downloadFloats(gd)[0]), what + ": dAlpha");
                    }
                }
            }
        }
    }

    @Test
    void launchesFromSeveralThreadsKeepTheirOwnArguments() throws Exception {
        // Launcher's argument slots are per thread: two threads launching at once must each see
        // their own alpha and tensors. Integers stay exact in float, so the results are exact.
        int n = 4097, steps = 200;
        try (Scope sc = Scope.open()) {
            Tensor a1 = Tensor.zeros(cuda, DType.F32, Shape.of(n)), a2 = Tensor.zeros(cuda, DType.F32, Shape.of(n));
            Tensor ones = Tensor.zeros(cuda, DType.F32, Shape.of(n));
            cuda.fill(ones, 1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t1 = new Thread(() -> {
                try {
                    for (int i = 0; i < steps; i++) cuda.adjointStep(a1, ones, 1.0, null, null);
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            Thread t2 = new Thread(() -> {
                try {
                    for (int i = 0; i < steps; i++) cuda.adjointStep(a2, ones, 2.0, null, null);
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            t1.start();
            t2.start();
            t1.join();
            t2.join();
            if (failure.get() != null) throw new AssertionError("launch from a second thread failed", failure.get());
            float[] r1 = cuda.downloadFloats(a1), r2 = cuda.downloadFloats(a2);
            for (int i = 0; i < n; i++) {
                assertEquals(-steps, r1[i], "thread 1, element " + i);
                assertEquals(-2 * steps, r2[i], "thread 2, element " + i);
            }
        }
    }
}
