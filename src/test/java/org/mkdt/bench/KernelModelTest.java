package org.mkdt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mkdt.backend.cuda.KernelProfile;

/** The modelled time: the longest of arithmetic, traffic and the launch floor, per launch. */
class KernelModelTest {
    private static final KernelModel.Card CARD = new KernelModel.Card("test", 1e12, 8e12, 1e11, 0.5, 0.5, 1e-6);

    @Test
    void eachLaunchTakesTheLongestOfItsArithmeticItsBytesAndTheFloor() {
        // 1 GFLOP at 0.5 TFLOP/s: 2 ms, its 1 MB at 50 GB/s only 0.02 ms.
        assertEquals(2e-3, KernelModel.seconds(new KernelProfile.Row("gemm", "1x1x1", 1, 1_000_000_000L, 1_000_000L, 0), CARD), 1e-12);
        // Memory-bound: 1 GB at 50 GB/s, twice.
        assertEquals(2 * 0.02, KernelModel.seconds(new KernelProfile.Row("add", "1x1x1", 2, 1000L, 2_000_000_000L, 0), CARD), 1e-12);
        // Tiny: the floor, per launch.
        assertEquals(5e-6, KernelModel.seconds(new KernelProfile.Row("tiny", "1x1x1", 5, 10L, 40L, 0), CARD), 1e-15);
        // Memsets: their bytes at the bandwidth plus the floor each.
        KernelProfile.Snapshot s = new KernelProfile.Snapshot(List.of(new KernelProfile.Row("tiny", "1x1x1", 5, 10L, 40L, 0)), 2, 100_000_000L, false);
        assertEquals(5e-6 + 2e-6 + 2e-3, KernelModel.seconds(s, CARD), 1e-12);
        assertEquals(1.0, (double) KernelModel.json(s, 5).get("launches"), 1e-12);
    }

    @Test
    void tensorCoreKernelsRunAtTheTensorRateAndThreeTf32PaysThreeProducts() {
        // 1 GFLOP at 0.5 x 8 TFLOP/s: 0.25 ms in TF32, three times that in 3xTF32; FP32 2 ms.
        assertEquals(0.25e-3, KernelModel.seconds(new KernelProfile.Row("gemm_tiled_nn_tf32", "1x1x1", 1, 1_000_000_000L, 1000L, 0), CARD), 1e-12);
        assertEquals(0.75e-3, KernelModel.seconds(new KernelProfile.Row("conv_igemm_forward_3xtf32", "1x1x1", 1, 1_000_000_000L, 1000L, 0), CARD), 1e-12);
        assertEquals(2e-3, KernelModel.seconds(new KernelProfile.Row("conv_igemm_forward_f32", "1x1x1", 1, 1_000_000_000L, 1000L, 0), CARD), 1e-12);
    }
}
