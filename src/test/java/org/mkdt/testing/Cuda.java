package org.mkdt.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.mkdt.backend.cuda.CudaBackend;
import org.mkdt.backend.cuda.CudaDevice;

/**
 * CUDA tests skip by assumption, saying why, where no device loads (CI's plain test run has
 * none). Where a device is required (MKDT_CUDA_REQUIRED=1: scripts/cudaemu.sh and the GPU
 * machine's runs) a missing device fails the test instead, so that a broken setup cannot pass
 * as a run of skips.
 */
public final class Cuda {
    private Cuda() {}

    public static final boolean REQUIRED = "1".equals(System.getenv("MKDT_CUDA_REQUIRED"));

    public static CudaBackend backendOrSkip() {
        CudaDevice.Probe p = CudaDevice.open();
        if (REQUIRED) Assertions.assertTrue(p.available(), () -> "MKDT_CUDA_REQUIRED=1 but " + p.reason());
        Assumptions.assumeTrue(p.available(), () -> "skipped: " + p.reason());
        return CudaBackend.get();
    }
}
