package org.mkdt.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import jdk.incubator.vector.FloatVector;
import org.mkdt.backend.cpu.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** What this build and this machine offer. */
@Command(name = "info", description = "Java, CPU backend threads and vector width, and which device backends this build has.")
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
        out.printf("heap        %d MiB maximum%n", Runtime.getRuntime().maxMemory() >> 20);
        out.println("cuda        not in this build yet (the CUDA backend issue)");
        out.flush();
        return 0;
    }
}
