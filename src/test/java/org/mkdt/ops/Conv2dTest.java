package org.mkdt.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.mkdt.testing.Close.F32_ATOL;
import static org.mkdt.testing.Close.F32_RTOL;
import static org.mkdt.testing.Close.assertClose;
import static org.mkdt.testing.Close.uniform;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

class Conv2dTest {
    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    private static Tensor t(DType d, double[] v, int... dims) {
        return Tensor.of(CPU, d, Shape.of(dims), v);
    }

    @Test
    void onesKernelCountsNeighboursPlusBias() {
        double[] ones = {1, 1, 1, 1, 1, 1, 1, 1, 1};
        for (DType d : DType.values()) {
            Tensor y = Conv2d.conv2d(t(d, ones, 1, 1, 3, 3), t(d, ones, 1, 1, 3, 3), t(d, new double[] {0.5}, 1));
            assertArrayEquals(new double[] {4.5, 6.5, 4.5, 6.5, 9.5, 6.5, 4.5, 6.5, 4.5}, y.toDoubleArray(), 0.0, d.toString());
        }
    }

    @Test
    void isACorrelationLikePytorch() {
        // w[0,0,0,0] = 1 reads the input one up and one left: y[i, j] = x[i-1, j-1].
        double[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        double[] w = new double[9];
        w[0] = 1;
        for (DType d : DType.values()) {
            Tensor y = Conv2d.conv2d(t(d, x, 1, 1, 3, 3), t(d, w, 1, 1, 3, 3), null);
            assertArrayEquals(new double[] {0, 0, 0, 0, 1, 2, 0, 4, 5}, y.toDoubleArray(), 0.0, d.toString());
        }
    }

    /**
     * float32 (im2col + GEMM grouped, or Winograd where 16+ channels meet a 3x3 "same" kernel on
     * even planes: 17, 32 and 128 channels here, in several groups) against float64 (direct
     * loops) for all three ops.
     */
    @ParameterizedTest(name = "n={0} ci={1} co={2} h={3} w={4} k={5} stride={6} pad={7}")
    @CsvSource({"1,1,1,1,1,3,1,1", "2,3,4,5,7,3,1,1", "3,5,33,4,6,3,1,1", "5,3,16,32,32,3,1,1", "33,17,9,8,8,3,1,1", "3,32,16,8,8,3,1,1", "40,8,8,16,16,3,1,1", "9,128,128,16,16,3,1,1", "2,16,8,7,6,3,1,1",
        "3,4,6,9,7,3,2,1", "2,5,3,8,8,1,2,0", "2,3,4,11,9,5,2,2", "4,3,5,7,7,3,1,0", "2,2,3,6,5,1,1,0", "1,3,8,32,32,7,2,3"})
    void float32MatchesFloat64Reference(int n, int ci, int co, int h, int w, int k, int stride, int pad) {
        ConvGeometry geo = new ConvGeometry(stride, pad);
        int oh = geo.out(h, k), ow = geo.out(w, k);
        double[] x = uniform(1, n * ci * h * w), wt = uniform(2, co * ci * k * k), b = uniform(3, co), dy = uniform(4, n * co * oh * ow);
        Tensor y64 = Conv2d.conv2d(t(DType.F64, x, n, ci, h, w), t(DType.F64, wt, co, ci, k, k), t(DType.F64, b, co), geo);
        Tensor y32 = Conv2d.conv2d(t(DType.F32, x, n, ci, h, w), t(DType.F32, wt, co, ci, k, k), t(DType.F32, b, co), geo);
        // Each output sums ci * k * k products of |x| <= 1; float32 rounding grows like the root of
        // that count (GemmKernelTest's rule), so the absolute tolerance grows with it past 100 terms.
        double atol = Math.max(F32_ATOL, 1e-6 * Math.sqrt(ci * k * k)), atolData = Math.max(F32_ATOL, 1e-6 * Math.sqrt(co * k * k));
        assertClose(y64.toDoubleArray(), y32.toFloatArray(), atol, F32_RTOL, "conv2d");

        Tensor dx64 = Conv2d.dataGrad(t(DType.F64, dy, n, co, oh, ow), t(DType.F64, wt, co, ci, k, k), geo, h, w);
        Tensor dx32 = Conv2d.dataGrad(t(DType.F32, dy, n, co, oh, ow), t(DType.F32, wt, co, ci, k, k), geo, h, w);
        assertClose(dx64.toDoubleArray(), dx32.toFloatArray(), atolData, F32_RTOL, "conv2dDataGrad");

        Tensor dw64 = Conv2d.weightGrad(t(DType.F64, x, n, ci, h, w), t(DType.F64, dy, n, co, oh, ow), geo, k, k);
        Tensor dw32 = Conv2d.weightGrad(t(DType.F32, x, n, ci, h, w), t(DType.F32, dy, n, co, oh, ow), geo, k, k);
        assertClose(dw64.toDoubleArray(), dw32.toFloatArray(), 1e-4, F32_RTOL, "conv2dWeightGrad");
    }

    @Test
    void strideTwoKnownAnswer() {
        // 4x4 input 0..15, 1x1 kernel of 2, stride 2, no padding: every other pixel, doubled.
        double[] x = new double[16];
        for (int i = 0; i < 16; i++) x[i] = i;
        Tensor y = Conv2d.conv2d(t(DType.F64, x, 1, 1, 4, 4), t(DType.F64, new double[] {2}, 1, 1, 1, 1), null, new ConvGeometry(2, 0));
        assertArrayEquals(new double[] {0, 4, 16, 20}, y.toDoubleArray(), 0.0);
    }
}
