package org.mkdt.backend.cuda;

import jcuda.driver.CUdeviceptr;
import org.mkdt.backend.Backend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.MemoryStats;
import org.mkdt.tensor.Storage;

/** Device memory of one tensor storage, returned to the caching allocator on release. */
final class CudaStorage extends Storage {
    private final CudaBackend backend;
    private final DeviceRelease release;

    private static final class DeviceRelease extends Release {
        private final DeviceAllocator allocator;
        private final DeviceAllocator.Block block;

        DeviceRelease(MemoryStats stats, DeviceAllocator allocator, long bytes) {
            super(stats, bytes);
            this.allocator = allocator;
            this.block = allocator.allocate(bytes);
        }

        @Override
        protected void free() {
            allocator.release(block);
        }
    }

    CudaStorage(CudaBackend backend, DeviceAllocator allocator, DType dtype, int numel) {
        this(backend, new DeviceRelease(backend.memory(), allocator, (long) numel * dtype.bytes()), dtype, numel);
    }

    private CudaStorage(CudaBackend backend, DeviceRelease release, DType dtype, int numel) {
        super(dtype, numel, release);
        this.backend = backend;
        this.release = release;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    /** The device address of element {@code offset}. */
    CUdeviceptr pointer(int offset) {
        checkLive();
        return offset == 0 ? release.block.ptr() : release.block.ptr().withByteOffset((long) offset * dtype().bytes());
    }
}
