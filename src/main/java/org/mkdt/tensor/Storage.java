package org.mkdt.tensor;

import java.lang.ref.Cleaner;
import org.mkdt.backend.Backend;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A block of device memory holding {@code numel} elements of one dtype. Released exactly once:
 * explicitly, when its {@link Scope} closes, or by the cleaner once unreachable. Using a
 * released storage is an error, reported at the point of use.
 */
public abstract class Storage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final DType dtype;
    private final int numel;
    private final Release release;
    private final Cleaner.Cleanable cleanable;

    /** The release action, kept apart from the storage so the cleaner does not keep it alive. */
    protected abstract static class Release implements Runnable {
        private final AtomicBoolean done = new AtomicBoolean();
        private final MemoryStats stats;
        private final long bytes;

        protected Release(MemoryStats stats, long bytes) {
            this.stats = stats;
            this.bytes = bytes;
        }

        @Override
        public final void run() {
            if (done.compareAndSet(false, true)) {
                stats.released(bytes);
                free();
            }
        }

        /** Frees the backend memory; called once. */
        protected abstract void free();

        boolean isDone() {
            return done.get();
        }
    }

    protected Storage(DType dtype, int numel, Release release) {
        this.dtype = dtype;
        this.numel = numel;
        this.release = release;
        release.stats.allocated(release.bytes);
        this.cleanable = CLEANER.register(this, release);
        Scope.registerInCurrent(this);
    }

    /** The backend that owns this memory. */
    public abstract Backend backend();

    public DType dtype() {
        return dtype;
    }

    public int numel() {
        return numel;
    }

    public long bytes() {
        return (long) numel * dtype.bytes();
    }

    public boolean isReleased() {
        return release.isDone();
    }

    /** Frees the memory now. Idempotent. */
    public void release() {
        cleanable.clean();
    }

    protected final void checkLive() {
        if (release.isDone()) {
            throw new IllegalStateException("tensor storage used after release (its scope was closed?)");
        }
    }
}
