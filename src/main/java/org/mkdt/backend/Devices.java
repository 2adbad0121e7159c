package org.mkdt.backend;

import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.backend.cuda.CudaBackend;
import org.mkdt.backend.cuda.CudaDevice;

/** Picks the backend for {@code --device cpu|cuda|auto}, with the one line that says which and why. */
public final class Devices {
    private Devices() {}

    /** The chosen backend and the line to log: "backend: cuda (NVIDIA H100 ..., 79.2 GiB)". */
    public record Selection(Backend backend, String line) {}

    public static Selection select(String device) {
        return switch (device) {
            case "cpu" -> new Selection(CpuBackend.INSTANCE, "backend: cpu (requested)");
            case "cuda" -> {
                try {
                    CudaBackend b = CudaBackend.get();
                    yield new Selection(b, "backend: cuda (requested; " + describe(b) + ")");
                } catch (IllegalStateException e) {
                    throw new IllegalArgumentException("--device cuda: " + e.getMessage());
                }
            }
            case "auto" -> {
                CudaDevice.Probe p = CudaDevice.open();
                if (!p.available()) yield new Selection(CpuBackend.INSTANCE, "backend: cpu (auto: " + p.reason() + ")");
                CudaBackend b = CudaBackend.get();
                yield new Selection(b, "backend: cuda (auto: " + describe(b) + ")");
            }
            default -> throw new IllegalArgumentException("--device must be cpu, cuda or auto, got '" + device + "'");
        };
    }

    /** The device, and the arithmetic and convolution algorithm in force (they change the results' last bits). */
    static String describe(CudaBackend b) {
        CudaDevice d = b.device();
        return String.format("%s, %.1f GiB, compute %s; GEMM %s, convolution %s", d.name(), d.totalBytes() / (double) (1L << 30), d.computeCapability(),
                b.precision().label(), b.convAlgorithm().name().toLowerCase(java.util.Locale.ROOT));
    }
}
