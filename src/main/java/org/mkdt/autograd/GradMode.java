package org.mkdt.autograd;

/**
 * Whether ops record themselves into the graph, per thread. Backward passes run with recording
 * off unless the caller asked for createGraph, which is how a gradient becomes differentiable.
 */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {}

    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Sets the mode until the returned guard is closed, then restores the previous one. */
    public static Guard set(boolean enabled) {
        boolean[] cell = ENABLED.get();
        boolean previous = cell[0];
        cell[0] = enabled;
        return () -> cell[0] = previous;
    }

    /** Shorthand for {@code set(false)}: no recording inside the try block. */
    public static Guard noGrad() {
        return set(false);
    }

    /** Restores the previous mode on close. */
    public interface Guard extends AutoCloseable {
        @Override
        void close();
    }
}
