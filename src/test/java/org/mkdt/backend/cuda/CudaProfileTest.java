package org.mkdt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.mkdt.ops.Gemm;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;
import org.mkdt.testing.Close;
import org.mkdt.testing.Cuda;

/** The kernel profile counts what each launch asks for (the dry run's model rests on it) and times launches by events. */
@Tag("cuda")
class CudaProfileTest {
    private CudaBackend cuda;

    @BeforeEach
    void device() {
        cuda = Cuda.backendOrSkip();
    }

    @Test
    void aGemmIsCountedOnceWithItsFlopsAndBytesAndAFillAsAMemset() {
        int m = 70, k = 50, n = 33;
        Tensor a = Tensor.of(cuda, DType.F32, Shape.of(m, k), Close.uniform(1, m * k));
        Tensor b = Tensor.of(cuda, DType.F32, Shape.of(k, n), Close.uniform(2, k * n));
        cuda.synchronize();
        cuda.resetKernelProfile();
        long before = cuda.kernelLaunches();
        Gemm.matmul(a, b);
        KernelProfile.Snapshot s = cuda.kernelProfile();
        assertEquals(cuda.kernelLaunches() - before, s.launches());
        KernelProfile.Row gemm = s.rows().stream().filter(r -> r.kernel().startsWith("gemm_")).findFirst().orElseThrow();
        assertEquals(1, gemm.calls(), s.rows().toString());
        assertEquals(2L * m * n * k, gemm.flops());
        assertEquals(4L * (m * k + k * n + m * n), gemm.bytes()); // one K slice, beta 0: A and B read, C written
        assertEquals(CudaBackend.POISON ? 1 : 0, s.memsets()); // the output is not zero-filled (only NaN-poisoned in the tests)
        Tensor z = Tensor.zeros(cuda, DType.F32, Shape.of(1000));
        cuda.fill(z, 1.0);
        KernelProfile.Snapshot after = cuda.kernelProfile();
        assertTrue(after.memsets() >= 1 && after.memsetBytes() >= 4000, after.memsets() + " memsets, " + after.memsetBytes() + " bytes");
        cuda.resetKernelProfile();
        KernelProfile.Snapshot empty = cuda.kernelProfile();
        assertEquals(0, empty.launches());
        assertEquals(0, empty.memsets());
    }

    @Test
    void eventsTimeEachLaunchWhenAsked() {
        KernelProfile timed = new KernelProfile(true);
        cuda.device().makeCurrent();
        var start = timed.before(cuda.device().stream());
        timed.after("k", 3, 1, 1, KernelProfile.Cost.floats(10, 20), start, cuda.device().stream());
        KernelProfile.Snapshot s = timed.snapshot();
        assertTrue(s.timed());
        assertEquals(1, s.launches());
        assertEquals("3x1x1", s.rows().get(0).grid());
        assertEquals(80, s.rows().get(0).bytes());
        assertTrue(s.rows().get(0).seconds() >= 0);
        KernelProfile untimed = new KernelProfile(false);
        assertEquals(null, untimed.before(cuda.device().stream()));
        untimed.after("k", 1, 1, 1, null, null, cuda.device().stream());
        assertFalse(untimed.snapshot().timed());
        assertEquals(0, untimed.snapshot().rows().get(0).flops());
    }
}
