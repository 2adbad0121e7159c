package org.mkdt.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.ops.Elementwise;

class ScopeTest {
    /** Its own instance: garbage of other tests, released by the cleaner at any time, is not counted here. */
    private static final CpuBackend CPU = new CpuBackend();

    @Test
    void closingAScopeReleasesItsTensorsAndAccountsTheBytes() {
        MemoryStats mem = CPU.memory();
        long before = mem.liveBytes();
        Tensor kept;
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.zeros(CPU, DType.F32, 1000);
            Tensor b = Tensor.zeros(CPU, DType.F64, 500);
            assertEquals(before + 4000 + 4000, mem.liveBytes());
            Tensor c = Elementwise.add(a, a);
            kept = s.keep(c);
            assertTrue(mem.peakBytes() >= before + 12_000);
            assertEquals(before + 12_000, mem.liveBytes(), "b is still live inside the scope: " + b);
        }
        assertEquals(before + 4000, mem.liveBytes(), "only the kept tensor survives");
        assertEquals(0.0, kept.toDoubleArray()[0]);
        kept.storage().release();
        assertEquals(before, mem.liveBytes());
    }

    @Test
    void usingAReleasedTensorFailsLoudly() {
        Tensor a;
        try (Scope s = Scope.open()) {
            a = Tensor.zeros(CPU, DType.F32, 3);
        }
        Tensor dead = a;
        IllegalStateException e = assertThrows(IllegalStateException.class, dead::toFloatArray);
        assertTrue(e.getMessage().contains("release"), e.getMessage());
    }

    @Test
    void peakIsAHighWaterMark() {
        MemoryStats mem = CPU.memory();
        mem.resetPeak();
        long base = mem.liveBytes();
        try (Scope s = Scope.open()) {
            Tensor.zeros(CPU, DType.F64, 1000);
        }
        assertEquals(base, mem.liveBytes());
        assertEquals(base + 8000, mem.peakBytes());
    }

    @Test
    @SuppressWarnings("resource")
    void closingAnOuterScopeAlsoClosesALeakedInnerOne() {
        MemoryStats mem = CPU.memory();
        long base = mem.liveBytes();
        Scope outer = Scope.open();
        Scope.open(); // leaked: never closed by its owner
        Tensor.zeros(CPU, DType.F32, 250);
        outer.close();
        assertEquals(base, mem.liveBytes(), "the leaked scope's tensors are released too");
        try (Scope s = Scope.open()) {
            Tensor.zeros(CPU, DType.F32, 250);
        }
        assertEquals(base, mem.liveBytes(), "later scopes work as usual");
    }
}
