package org.mkdt.testing;

import org.junit.jupiter.api.Assumptions;
import org.mkdt.backend.cuda.CudaBackend;
import org.mkdt.backend.cuda.CudaDevice;

/** CUDA tests skip by assumption, saying why, where no device loads (CI has none). */
public final class Cuda {
    private Cuda() {}

    public static CudaBackend backendOrSkip() {
        CudaDevice.Probe p = CudaDevice.open();
        Assumptions.assumeTrue(p.available(), () -> "skipped: " + p.reason());
        return CudaBackend.get();
    }
}
