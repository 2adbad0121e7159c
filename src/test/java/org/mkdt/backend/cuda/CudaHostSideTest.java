package org.mkdt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mkdt.backend.Devices;
import org.mkdt.backend.cpu.CpuBackend;

/**
 * The CUDA backend's host-side arithmetic, which needs no device: grid, walk and split
 * planning (batched GEMM slices, convolution passes), the scatter's CSR grouping, the
 * allocator's size classes, the launcher's argument slots, and the fallback when no driver
 * loads. These always run, so CI covers them.
 */
class CudaHostSideTest {
    @Test
    void blocksCoverEveryItemAndRespectTheCap() {
        assertEquals(1, Launcher.blocks(0, 256, 65535));
        assertEquals(1, Launcher.blocks(1, 256, 65535));
        assertEquals(2, Launcher.blocks(257, 256, 65535));
        assertEquals(65535, Launcher.blocks(1L << 40, 256, 65535));
    }

    @Test
    void reduceWalkSplitsKeptAndReducedAxesAndMergesNeighbours() {
        // (N, C, H, W) -> (1, C, 1, 1): kept C (stride HW), reduced N (stride CHW) and H*W merged (stride 1).
        int[] w = ReduceKernel.walk(new int[] {256, 128, 32, 32}, new int[] {1, 128, 1, 1});
        int r = ReduceKernel.MAX_RANK;
        assertEquals(1, w[0]);
        assertEquals(128, w[1]);
        assertEquals(1024, w[1 + r]);
        int b = 1 + 2 * r;
        assertEquals(2, w[b]);
        assertArrayEquals(new int[] {256, 1024}, new int[] {w[b + 1], w[b + 2]});
        assertArrayEquals(new int[] {128 * 1024, 1}, new int[] {w[b + 1 + r], w[b + 2 + r]});
        // Reducing everything: no kept axes, one merged reduced axis.
        int[] all = ReduceKernel.walk(new int[] {3, 5, 7}, new int[] {1, 1, 1});
        assertEquals(0, all[0]);
        assertEquals(1, all[b]);
        assertEquals(105, all[b + 1]);
    }

    @Test
    void reductionsSplitOnlyWhenFewOutputsHaveLongSums() {
        assertEquals(1, ReduceKernel.chunks(4096, 1 << 20));
        assertEquals(1, ReduceKernel.chunks(1, 1000));
        assertTrue(ReduceKernel.chunks(1, 1 << 24) > 100);
        assertTrue(ReduceKernel.chunks(128, 256 * 1024) > 1);
    }

    @Test
    void gemmSplitsKOnlyForFewTilesAndLongK() {
        assertEquals(1, GemmKernel.splits(4096, 4096, 4096));
        assertEquals(1, GemmKernel.splits(128, 128, 512));
        int s = GemmKernel.splits(128, 1152, 28 * 1024);
        assertTrue(s > 1 && s <= 28 * 1024 / 512, "splits " + s);
    }

    @Test
    void batchedGemmSplitsArePowersOfTwoWithinTheKLimitAndFewerForMoreStudents() {
        for (int[] c : new int[][] {{128, 1152, 4096}, {128, 256, 3000}, {64, 64, 1 << 20}, {4096, 4096, 4096}, {33, 31, 4097}, {1, 1, 100}}) {
            int m = c[0], n = c[1], k = c[2];
            assertEquals(GemmKernel.splits(m, n, k), GemmKernel.splits(1, m, n, k), "a batch of one is the unbatched rule");
            int previous = Integer.MAX_VALUE;
            for (int batch : new int[] {2, 3, 5, 8, 30, 200}) {
                int s = GemmKernel.splits(batch, m, n, k);
                assertEquals(1, Integer.bitCount(s), "power of two: " + s);
                assertTrue(s == 1 || s <= k / 512, "K per slice >= 512: " + s);
                assertTrue(s <= previous, "more students, no more slices");
                previous = s;
                // gridDim.z = students per launch * splits within the hardware limit.
                assertTrue((long) GemmKernel.studentsPerLaunch(batch, s) * s <= 65535);
            }
        }
        assertEquals(8, GemmKernel.splits(3, 128, 1152, 4096)); // 27 tiles: 10 by tiles, 8 by K
        assertEquals(4, GemmKernel.splits(3, 128, 256, 3000)); // 5 unbatched, rounded to the nearer power of two
        assertEquals(1, GemmKernel.splits(200, 128, 128, 1 << 20)); // 200 tiles fill the GPU
    }

    @Test
    void splitBitsSeparateStudentAndSlice() {
        assertEquals(31, GemmKernel.splitBits(1, 5)); // one product: any number of slices, student always 0
        assertEquals(0, GemmKernel.splitBits(7, 1));
        assertEquals(3, GemmKernel.splitBits(7, 8));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> GemmKernel.splitBits(2, 6));
        // The kernel's decode: blockIdx.z = (s << bits) | z.
        int bits = GemmKernel.splitBits(5, 4);
        for (int s = 0; s < 5; s++) for (int z = 0; z < 4; z++) {
            int blockZ = s * 4 + z;
            assertEquals(s, blockZ >>> bits);
            assertEquals(z, blockZ & ((1 << bits) - 1));
        }
        assertEquals(65535, GemmKernel.studentsPerLaunch(70000, 1));
        assertEquals(65535 / 16, GemmKernel.studentsPerLaunch(70000, 16));
        assertEquals(1, GemmKernel.studentsPerLaunch(1, 200));
    }

    @Test
    void convPassesShareTheWorkspaceAmongStudents() {
        long per = 1152L * 1024; // the MKDT student's 128-channel 3x3 layer at 32x32: 28 images in 128 MiB
        long ws = Conv2dKernel.WORKSPACE;
        // One student: the unbatched rule, min(N, workspace / per-image) images per pass.
        assertEquals(new Conv2dKernel.Plan(1, 28), Conv2dKernel.plan(1, 256, per, ws));
        assertEquals(new Conv2dKernel.Plan(1, 10), Conv2dKernel.plan(1, 10, per, ws));
        // Students share it: all together, fewer images each.
        assertEquals(new Conv2dKernel.Plan(4, 7), Conv2dKernel.plan(4, 256, per, ws));
        assertEquals(new Conv2dKernel.Plan(27, 1), Conv2dKernel.plan(27, 256, per, ws));
        // More students than images fit: that many students at a time, one image each.
        assertEquals(new Conv2dKernel.Plan(28, 1), Conv2dKernel.plan(100, 256, per, ws));
        // An image larger than the workspace still gets a pass of its own.
        assertEquals(new Conv2dKernel.Plan(1, 1), Conv2dKernel.plan(5, 3, 2 * ws, ws));
        // Tiny images: gridDim.y caps the students of a pass.
        assertEquals(65535, Conv2dKernel.plan(100_000, 1, 1, ws).students());
        for (int s : new int[] {1, 2, 3, 7, 30}) {
            for (int n : new int[] {1, 5, 64, 500}) {
                Conv2dKernel.Plan p = Conv2dKernel.plan(s, n, per, ws);
                assertTrue(p.students() >= 1 && p.students() <= s && p.group() >= 1 && p.group() <= n, p.toString());
                assertTrue((long) p.students() * p.group() * per <= Math.max(ws, per), "within the workspace: " + p);
            }
        }
    }

    @Test
    void weightGradSplitsRespectThePartialsCapAndStayPowersOfTwoInABatch() {
        // 128 x 1152 outputs over K = 6 images * 1024 positions, 43 groups, 4 students.
        int s = Conv2dKernel.weightGradSplits(4, 128, 1152, 6 * 1024, 43, 64L << 20);
        assertEquals(1, Integer.bitCount(s));
        assertTrue((long) 43 * s * 4 * 128 * 1152 <= 64L << 20 || s == 1);
        assertEquals(1, Conv2dKernel.weightGradSplits(4, 128, 1152, 6 * 1024, 43, 1));
        int one = Conv2dKernel.weightGradSplits(1, 128, 1152, 27 * 1024, 10, 64L << 20);
        assertEquals(GemmKernel.splits(128, 1152, 27 * 1024), one, "the unbatched rule when the cap allows");
    }

    @Test
    void launchArgumentsReuseOneSetOfSlotsPerThread() throws Exception {
        Launcher l = new Launcher(null);
        jcuda.Pointer p1 = l.arguments(1, 2f, 3L, null);
        jcuda.Pointer p2 = l.arguments(4, 5f, 6L, null);
        org.junit.jupiter.api.Assertions.assertSame(p1, p2, "same arity, same thread: the same list");
        org.junit.jupiter.api.Assertions.assertNotSame(p1, l.arguments(1, 2), "another arity: another list");
        jcuda.Pointer[] other = new jcuda.Pointer[1];
        Thread t = new Thread(() -> other[0] = l.arguments(1, 2f, 3L, null));
        t.start();
        t.join();
        org.junit.jupiter.api.Assertions.assertNotSame(p1, other[0], "another thread: its own slots");
        Object[] many = new Object[30];
        java.util.Arrays.fill(many, 1);
        org.junit.jupiter.api.Assertions.assertNotSame(l.arguments(many), l.arguments(many), "more than the slots: built per launch");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> l.arguments("text"));
    }

    @Test
    void scatterCsrGroupsSourcesByTargetInIndexOrder() {
        int[] csr = RowsKernel.csr(new int[] {3, 1, 3, 0, 1, 3});
        // T = 3 targets {0, 1, 3}; starts {0, 1, 3, 6}; sources grouped: 0<-3; 1<-1,4; 3<-0,2,5.
        assertArrayEquals(new int[] {3, 0, 1, 3, 0, 1, 3, 6, 3, 1, 4, 0, 2, 5}, csr);
        assertArrayEquals(new int[] {0, 0}, RowsKernel.csr(new int[0]));
    }

    @Test
    void allocatorSizeClassesRoundUpAndNeverShrink() {
        assertEquals(512, DeviceAllocator.sizeClass(0));
        assertEquals(512, DeviceAllocator.sizeClass(1));
        assertEquals(1024, DeviceAllocator.sizeClass(513));
        assertEquals(1L << 20, DeviceAllocator.sizeClass((1L << 20) - 1));
        assertEquals(2L << 20, DeviceAllocator.sizeClass((1L << 20) + 1));
        for (long b = 1; b < 1L << 34; b = b * 3 + 1) assertTrue(DeviceAllocator.sizeClass(b) >= b);
    }

    @Test
    void opCodesAreExplicitAndDistinct() {
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (var op : org.mkdt.backend.UnaryOp.values()) assertTrue(seen.add(ElementwiseKernel.code(op)));
        seen.clear();
        for (var op : org.mkdt.backend.BinaryOp.values()) assertTrue(seen.add(ElementwiseKernel.code(op)));
    }

    @Test
    void autoFallsBackToTheCpuWithTheReasonWhenNoDriverLoads() {
        CudaDevice.Probe p = CudaDevice.open();
        Devices.Selection s = Devices.select("auto");
        if (p.available()) {
            assertEquals("cuda", s.backend().name());
        } else {
            assertTrue(s.backend() instanceof CpuBackend);
            assertTrue(s.line().startsWith("backend: cpu (auto: no CUDA"), s.line());
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Devices.select("cuda"));
            assertTrue(e.getMessage().startsWith("--device cuda: no CUDA"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
    }

    @Test
    void theConvolutionAlgorithmComesFromTheEnvironmentOrSaysWhatIsWrong() {
        assertEquals(ConvAlgorithm.IMPLICIT, ConvAlgorithm.fromEnvironment(null));
        assertEquals(ConvAlgorithm.IMPLICIT, ConvAlgorithm.fromEnvironment(" "));
        assertEquals(ConvAlgorithm.IMPLICIT, ConvAlgorithm.fromEnvironment("implicit"));
        assertEquals(ConvAlgorithm.IM2COL, ConvAlgorithm.fromEnvironment("IM2COL"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ConvAlgorithm.fromEnvironment("winograd"));
        assertEquals("MKDT_CUDA_CONV must be implicit or im2col, got 'winograd'", e.getMessage());
    }

    @Test
    void thePrecisionComesFromTheEnvironmentOrSaysWhatIsWrong() {
        assertEquals(Precision.FP32, Precision.fromEnvironment(null));
        assertEquals(Precision.FP32, Precision.fromEnvironment("fp32"));
        assertEquals(Precision.TF32X3, Precision.fromEnvironment("3xTF32"));
        assertEquals(Precision.TF32, Precision.fromEnvironment(" tf32 "));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Precision.fromEnvironment("bf16"));
        assertEquals("MKDT_CUDA_PRECISION must be fp32, 3xtf32 or tf32, got 'bf16'", e.getMessage());
    }
}
