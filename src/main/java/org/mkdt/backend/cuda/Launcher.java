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
 * <p>Argument buffers are reused: each thread keeps one set of slots (a one-element array and
 * its {@link Pointer} per argument position and type, and the pointer list per arity), filled
 * in place for each launch. cuLaunchKernel copies the argument values when it is called, so a
 * slot may be overwritten by the next launch at once; being per thread, no two launches share
 * a slot. This saves the three or four small objects per argument (array, buffer, Pointer)
 * that marshalling would otherwise allocate on every launch; the JNI traversal of the list
 * inside JCuda is the same either way. Struct arguments (int[]) are wrapped per launch: they
 * are built per launch anyway.
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
    /** Kernels launched so far (all threads): what a CUDA graph of a step would replace. */
    private final java.util.concurrent.atomic.LongAdder launches = new java.util.concurrent.atomic.LongAdder();
    /** Launches by kernel and grid with their FLOPs and bytes (and event times under MKDT_CUDA_PROFILE=1). */
    private final KernelProfile profile = new KernelProfile();
    private final ThreadLocal<Slots> slots = ThreadLocal.withInitial(Slots::new);

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

    /** Launch with a 3-D grid and a 2-D block; {@code cost} is what it computes and moves (for the profile). */
    void launchGrid(String name, KernelProfile.Cost cost, CUfunction f, int gridX, int gridY, int gridZ, int blockX, int blockY, int sharedBytes,
            Object... args) {
        Pointer params = arguments(args);
        try {
            jcuda.driver.CUevent start = profile.before(device.stream());
            cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY, 1, sharedBytes, device.stream(), params, null);
            launches.increment();
            profile.after(name, gridX, gridY, gridZ, cost, start, device.stream());
            if (SYNC_EACH) cuStreamSynchronize(device.stream());
        } catch (CudaException e) {
            throw new CudaException("kernel " + name + " (grid " + gridX + "x" + gridY + "x" + gridZ + ", block " + blockX + "x" + blockY + "): " + e.getMessage());
        }
    }

    /** The kernelParams pointer for {@code args}, built in the calling thread's reusable slots. */
    Pointer arguments(Object... args) {
        return slots.get().fill(args);
    }

    /** Kernels launched by this launcher so far. */
    long launches() {
        return launches.sum();
    }

    /** 1-D launch. */
    void launch(String name, KernelProfile.Cost cost, CUfunction f, int grid, int block, Object... args) {
        launchGrid(name, cost, f, grid, 1, 1, block, 1, 0, args);
    }

    KernelProfile profile() {
        return profile;
    }

    /** One thread's reusable argument slots. */
    private static final class Slots {
        /** More arguments than any kernel of the project has (the tiled GEMM has 16). */
        static final int MAX = 24;
        final int[][] ints = new int[MAX][1];
        final long[][] longs = new long[MAX][1];
        final float[][] floats = new float[MAX][1];
        final NativePointerObject[][] devicePtrs = new NativePointerObject[MAX][1];
        final Pointer[] intP = new Pointer[MAX], longP = new Pointer[MAX], floatP = new Pointer[MAX], devicePtrP = new Pointer[MAX];
        /** lists[n]: the pointer list of an n-argument launch, and listP[n] the Pointer to it. */
        final NativePointerObject[][] lists = new NativePointerObject[MAX + 1][];
        final Pointer[] listP = new Pointer[MAX + 1];

        Slots() {
            for (int i = 0; i < MAX; i++) {
                intP[i] = Pointer.to(ints[i]);
                longP[i] = Pointer.to(longs[i]);
                floatP[i] = Pointer.to(floats[i]);
                devicePtrP[i] = Pointer.to(devicePtrs[i]);
            }
            for (int n = 0; n <= MAX; n++) {
                lists[n] = new NativePointerObject[n];
                listP[n] = Pointer.to(lists[n]);
            }
        }

        /** The kernelParams pointer for {@code args}, in this thread's slots. */
        Pointer fill(Object[] args) {
            if (args.length > MAX) {
                NativePointerObject[] params = new NativePointerObject[args.length];
                for (int i = 0; i < args.length; i++) params[i] = fresh(args[i]);
                return Pointer.to(params);
            }
            NativePointerObject[] list = lists[args.length];
            for (int i = 0; i < args.length; i++) list[i] = slot(i, args[i]);
            return listP[args.length];
        }

        private Pointer slot(int i, Object a) {
            if (a == null) {
                longs[i][0] = 0L;
                return longP[i];
            }
            if (a instanceof Integer v) {
                ints[i][0] = v;
                return intP[i];
            }
            if (a instanceof Long v) {
                longs[i][0] = v;
                return longP[i];
            }
            if (a instanceof Float v) {
                floats[i][0] = v;
                return floatP[i];
            }
            if (a instanceof CUdeviceptr p) {
                devicePtrs[i][0] = p;
                return devicePtrP[i];
            }
            return fresh(a);
        }

        private static Pointer fresh(Object a) {
            if (a == null) return Pointer.to(new long[] {0L});
            if (a instanceof Integer i) return Pointer.to(new int[] {i});
            if (a instanceof Long l) return Pointer.to(new long[] {l});
            if (a instanceof Float x) return Pointer.to(new float[] {x});
            if (a instanceof CUdeviceptr p) return Pointer.to(p);
            if (a instanceof int[] s) return Pointer.to(s);
            throw new IllegalArgumentException("unsupported kernel argument type " + a.getClass().getName());
        }
    }
}
