package org.mkdt.backend.cuda;

import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

/**
 * One compiled kernel family: kernels/STEM.cu built by scripts/build-kernels.sh into the
 * classpath resource org/mkdt/kernels/STEM.fatbin (sm_90 machine code plus compute_90 PTX, so
 * Hopper runs it without JIT and newer GPUs JIT the PTX). Loaded with cuModuleLoadData.
 */
final class KernelModule {
    private final String stem;
    private final CUmodule module = new CUmodule();

    KernelModule(String stem) {
        this.stem = stem;
        String resource = "/org/mkdt/kernels/" + stem + ".fatbin";
        byte[] image;
        try (InputStream in = KernelModule.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("kernel image " + resource + " is not on the class path (run scripts/build-kernels.sh)");
            }
            image = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel image " + resource, e);
        }
        cuModuleLoadData(module, image);
    }

    /** An entry point with its name, which the kernel profile keys its rows by (made once, not per launch). */
    record Entry(String name, CUfunction function) {}

    /** {@link #function} with its name. */
    Entry entry(String name) {
        return new Entry(name, function(name));
    }

    /** The entry point {@code name} (an extern "C" __global__ function of this family). */
    CUfunction function(String name) {
        CUfunction f = new CUfunction();
        try {
            cuModuleGetFunction(f, module, name);
        } catch (RuntimeException e) {
            throw new IllegalStateException("kernels/" + stem + ".cu has no entry point " + name, e);
        }
        return f;
    }
}
