package org.mkdt.backend.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import jcuda.CudaException;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;

/**
 * The one launch path: every kernel of the backend goes through {@link #launch}, which owns the
 * argument marshalling, the grid arithmetic helpers and the error check.
 *
 * <p>Arguments are boxed Java values mapped to the kernel's C parameters: Integer to int,
 * Long to long long, Float to float, {@link CUdeviceptr} (or null for a NULL pointer) to a pointer, and int[] to
 * a struct of ints passed by value (cuLaunchKernel copies as many bytes as the parameter has).
 *
 * <p>Launch errors (bad grid, missing function) come back from cuLaunchKernel at once. Errors
 * inside a kernel (illegal address) surface at the next synchronising call; with the
 * environment variable MKDT_CUDA_SYNC=1 every launch is followed by a synchronize, so the
 * failing kernel is named (slow: for debugging and compute-sanitizer runs).
 */
final class Launcher {
    static final boolean SYNC_EACH = "1".equals(System.getenv("MKDT_CUDA_SYNC"));
    /** Cap for 1-D grids of grid-stride kernels: enough blocks to fill any current GPU. */
    static final int MAX_BLOCKS = 65535;
    /** The hardware limit of gridDim.y and gridDim.z. */
    static final int MAX_GRID_YZ = 65535;

    private final CudaDevice device;

    Launcher(CudaDevice device) {
        this.device = device;
    }

    /** Blocks of {@code threads} covering {@code n} items, at least 1, at most {@code cap}. */
    static int blocks(long n, int threads, int cap) {
        long b = (n + threads - 1) / threads;
        return (int) Math.max(1, Math.min(b, cap));
    }

    /** ceil(a / b) for positive ints. */
    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Launch with a 3-D grid and a 2-D block. */
    void launchGrid(String name, CUfunction f, int gridX, int gridY, int gridZ, int blockX, int blockY, int sharedBytes, Object... args) {
        NativePointerObject[] params = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) params[i] = param(args[i]);
        try {
            cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY, 1, sharedBytes, device.stream(), Pointer.to(params), null);
            if (SYNC_EACH) cuStreamSynchronize(device.stream());
        } catch (CudaException e) {
            throw new CudaException("kernel " + name + " (grid " + gridX + "x" + gridY + "x" + gridZ + ", block " + blockX + "x" + blockY + "): " + e.getMessage());
        }
    }

    /** 1-D launch. */
    void launch(String name, CUfunction f, int grid, int block, Object... args) {
        launchGrid(name, f, grid, 1, 1, block, 1, 0, args);
    }

    private static Pointer param(Object a) {
        if (a == null) return Pointer.to(new long[] {0L});
        if (a instanceof Integer i) return Pointer.to(new int[] {i});
        if (a instanceof Long l) return Pointer.to(new long[] {l});
        if (a instanceof Float x) return Pointer.to(new float[] {x});
        if (a instanceof CUdeviceptr p) return Pointer.to(p);
        if (a instanceof int[] s) return Pointer.to(s);
        throw new IllegalArgumentException("unsupported kernel argument type " + a.getClass().getName());
    }
}
