package org.mkdt.backend.cpu;

/**
 * The CPU backend's thread count: {@code -Dmkdt.threads=N} or the environment variable
 * MKDT_THREADS, else all available processors. Its own class, so that the command line can
 * check the setting and report a bad one in one line before {@link Parallel} is initialised
 * (an exception there surfaces as a 17-line ExceptionInInitializerError).
 */
public final class CpuThreads {
    private CpuThreads() {}

    /** The configured count; a value that is not an integer in 1..4096 is an error naming the variable. */
    public static int configured() {
        String s = System.getProperty("mkdt.threads", System.getenv("MKDT_THREADS"));
        if (s == null || s.isBlank()) return Runtime.getRuntime().availableProcessors();
        try {
            int n = Integer.parseInt(s.trim());
            if (n >= 1 && n <= 4096) return n;
        } catch (NumberFormatException ignored) {
            // falls through to the error below
        }
        throw new IllegalArgumentException("MKDT_THREADS (or -Dmkdt.threads): expected an integer in 1..4096, got '" + s + "'");
    }
}
