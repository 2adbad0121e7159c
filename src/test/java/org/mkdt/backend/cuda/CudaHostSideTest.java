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
 * planning, the scatter's CSR grouping, the allocator's size classes, and the fallback when no
 * driver loads. These always run, so CI covers them.
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
}
