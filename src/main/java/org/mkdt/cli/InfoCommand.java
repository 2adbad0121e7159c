package org.mkdt.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import jdk.incubator.vector.FloatVector;
import org.mkdt.backend.cpu.Parallel;
import org.mkdt.backend.cuda.CudaBackend;
import org.mkdt.backend.cuda.CudaDevice;
import org.mkdt.backend.cuda.Cudnn;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** What this build and this machine offer. */
@Command(name = "info", description = "Java, the CPU backend's threads and vector width, JCuda, the CUDA device, cuBLAS and cuDNN.")
public final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("java        %s (%s)%n", Runtime.version(), System.getProperty("java.vendor"));
        out.printf("os          %s %s%n", System.getProperty("os.name"), System.getProperty("os.arch"));
        out.printf("cpu backend %d threads, %d-bit vectors (GEMM micro-kernel %s)%n", Parallel.threads(), FloatVector.SPECIES_PREFERRED.vectorBitSize(),
                FloatVector.SPECIES_PREFERRED.length() >= 16 ? "8x2" : "6x2");
        out.printf("heap        %d MiB maximum, collector %s%n", Runtime.getRuntime().maxMemory() >> 20, org.mkdt.util.Jvm.collector());
        out.printf("jcuda       %s%n", CudaDevice.jcudaVersion());
        CudaDevice.Probe probe = CudaDevice.open();
        if (!probe.available()) {
            out.printf("cuda        unavailable: %s; --device auto uses the CPU%n", probe.reason());
        } else {
            CudaDevice d = probe.device();
            out.printf("libcuda     loaded (driver CUDA %s)%n", CudaDevice.driverVersion());
            out.printf("device      %s, compute %s, %d SMs, %.1f GiB (%.1f GiB free)%n", d.name(), d.computeCapability(), d.multiprocessors(),
                    d.totalBytes() / (double) (1L << 30), d.freeBytes() / (double) (1L << 30));
            try {
                CudaBackend b = CudaBackend.get();
                out.printf("kernels     loaded (%s); GEMM uses %s at %s (MKDT_CUDA_PRECISION), convolution %s (MKDT_CUDA_CONV)%n", String.join(", ", CudaBackend.KERNEL_FAMILIES),
                        b.gemmKernel().defaultVersion(), b.precision().label(), b.convAlgorithm().name().toLowerCase(java.util.Locale.ROOT));
                out.printf("cublas      %s%n", b.cublas().status());
            } catch (RuntimeException e) {
                out.printf("kernels     FAILED to load: %s%n", e.getMessage());
                out.flush();
                return 1;
            }
            out.printf("cudnn       %s%n", Cudnn.status());
        }
        out.flush();
        return 0;
    }
}
