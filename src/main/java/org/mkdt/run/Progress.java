package org.mkdt.run;

import java.io.PrintWriter;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long stage: a progress bar on a terminal, and where there is none (CI, Slurm,
 * a pipe) a plain line at most every 30 seconds and at the end, so logs stay readable.
 */
public final class Progress implements AutoCloseable {
    private static final long LOG_EVERY_NANOS = 30_000_000_000L;

    private final String task;
    private final long total;
    private final PrintWriter log;
    private final ProgressBar bar;
    private final long start = System.nanoTime();
    private long done;
    private long lastLog = System.nanoTime();

    private Progress(String task, long total, PrintWriter log, boolean terminal) {
        this.task = task;
        this.total = total;
        this.log = log;
        this.bar = terminal ? new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII).build() : null;
    }

    /** A bar when the JVM has a console, log lines to {@code log} otherwise. */
    public static Progress of(String task, long total, PrintWriter log) {
        return new Progress(task, total, log, System.console() != null);
    }

    public void step() {
        done++;
        if (bar != null) {
            bar.step();
            return;
        }
        long now = System.nanoTime();
        if (now - lastLog >= LOG_EVERY_NANOS) {
            lastLog = now;
            line();
        }
    }

    private void line() {
        double s = (System.nanoTime() - start) / 1e9;
        log.printf("%s: %d/%d steps (%.0f%%), %.0f s%n", task, done, total, total == 0 ? 100.0 : 100.0 * done / total, s);
        log.flush();
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
        else line();
    }
}
