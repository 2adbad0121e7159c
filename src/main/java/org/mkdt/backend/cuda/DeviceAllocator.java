package org.mkdt.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;

/**
 * A caching allocator over cuMemAlloc: a released block goes to a free list of its size class
 * and is handed out again without a driver call (cuMemAlloc and cuMemFree synchronise the
 * device and cost tens of microseconds; an MKDT iteration allocates thousands of temporaries).
 *
 * <p>Reuse is safe without events because all of the backend's work runs in one stream, in
 * order: a block released while a queued kernel still reads it is only written again by work
 * queued after that kernel. Releasing is a list operation, so the garbage collector's cleaner
 * thread may do it. When cuMemAlloc runs out of memory, the cached blocks are freed and the
 * allocation is tried once more.
 *
 * <p>Size classes: multiples of 512 bytes below 1 MiB, multiples of 1 MiB above, so that the
 * few hundred distinct temporary sizes of a training step map to a few hundred lists.
 */
final class DeviceAllocator {
    private static final long SMALL = 1 << 20;

    private final CudaDevice device;
    private final Map<Long, ArrayDeque<CUdeviceptr>> free = new HashMap<>();
    private long cachedBytes;
    private long reservedBytes;
    private long peakReservedBytes;

    DeviceAllocator(CudaDevice device) {
        this.device = device;
    }

    static long sizeClass(long bytes) {
        long b = Math.max(bytes, 1);
        return b < SMALL ? (b + 511) & ~511L : (b + SMALL - 1) & ~(SMALL - 1);
    }

    /** A block of at least {@code bytes} (contents undefined). */
    synchronized Block allocate(long bytes) {
        long size = sizeClass(bytes);
        ArrayDeque<CUdeviceptr> list = free.get(size);
        if (list != null && !list.isEmpty()) {
            cachedBytes -= size;
            return new Block(list.pop(), size);
        }
        device.makeCurrent();
        CUdeviceptr p = new CUdeviceptr();
        try {
            cuMemAlloc(p, size);
        } catch (CudaException e) {
            if (!e.getMessage().contains(CUresult.stringFor(CUresult.CUDA_ERROR_OUT_OF_MEMORY))) throw e;
            emptyCache();
            try {
                cuMemAlloc(p, size);
            } catch (CudaException again) {
                throw new IllegalStateException("CUDA device out of memory: " + size + " bytes requested, "
                        + reservedBytes + " bytes held by live tensors", again);
            }
        }
        reservedBytes += size;
        peakReservedBytes = Math.max(peakReservedBytes, reservedBytes);
        return new Block(p, size);
    }

    synchronized void release(Block b) {
        free.computeIfAbsent(b.size, k -> new ArrayDeque<>()).push(b.ptr);
        cachedBytes += b.size;
    }

    /** Returns every cached block to the driver. */
    synchronized void emptyCache() {
        device.makeCurrent();
        device.synchronize();
        for (ArrayDeque<CUdeviceptr> list : free.values()) {
            for (CUdeviceptr p : list) cuMemFree(p);
        }
        reservedBytes -= cachedBytes;
        cachedBytes = 0;
        free.clear();
    }

    /** Device bytes held: live tensors plus the cache. */
    synchronized long reservedBytes() {
        return reservedBytes;
    }

    synchronized long peakReservedBytes() {
        return peakReservedBytes;
    }

    synchronized long cachedBytes() {
        return cachedBytes;
    }

    record Block(CUdeviceptr ptr, long size) {}
}
