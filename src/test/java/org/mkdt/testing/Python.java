package org.mkdt.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Runs python3 snippets for interoperability checks; tests skip (saying why) where numpy is missing. */
public final class Python {
    private static Boolean numpy;

    private Python() {}

    public static void assumeNumpy() {
        if (numpy == null) {
            try {
                numpy = run("import numpy").exit == 0;
            } catch (IOException e) {
                numpy = false;
            }
        }
        assumeTrue(numpy, "python3 with numpy is not available on this machine: interoperability check skipped");
    }

    private static String torchPython;

    /**
     * The python3 that imports torch: Debian's python3-torch installs for /usr/bin/python3, which
     * another python3 (pyenv, a venv) may shadow on the PATH. Skips, saying why, where none does.
     */
    public static String assumeTorch() {
        if (torchPython == null) {
            torchPython = "";
            for (String py : new String[] {"python3", "/usr/bin/python3"}) {
                try {
                    if (runWith(py, "import torch, numpy").exit == 0) {
                        torchPython = py;
                        break;
                    }
                } catch (IOException e) {
                    // try the next interpreter
                }
            }
        }
        assumeTrue(!torchPython.isEmpty(), "no python3 with PyTorch and numpy (apt-get install python3-torch): PyTorch comparison skipped");
        return torchPython;
    }

    public record Result(int exit, String out) {}

    /** Runs {@code python3 -c code args...}; returns its exit code and combined output. */
    public static Result run(String code, String... args) throws IOException {
        return runWith("python3", code, args);
    }

    /** Runs {@code python -c code args...} with the given interpreter. */
    public static Result runWith(String python, String code, String... args) throws IOException {
        String[] cmd = new String[3 + args.length];
        cmd[0] = python;
        cmd[1] = "-c";
        cmd[2] = code;
        System.arraycopy(args, 0, cmd, 3, args.length);
        return exec(cmd);
    }

    /** Runs the repository's script {@code python path args...} (path relative to the repository root). */
    public static Result runScript(String python, String path, String... args) throws IOException {
        String[] cmd = new String[2 + args.length];
        cmd[0] = python;
        cmd[1] = java.nio.file.Path.of(path).toAbsolutePath().toString();
        System.arraycopy(args, 0, cmd, 2, args.length);
        return exec(cmd);
    }

    /** Runs {@code python -c code} with {@code cwd} as its working folder. */
    public static Result runIn(String python, java.nio.file.Path cwd, String code) throws IOException {
        return exec(new ProcessBuilder(python, "-c", code).directory(cwd.toFile()));
    }

    private static Result exec(String[] cmd) throws IOException {
        return exec(new ProcessBuilder(cmd));
    }

    private static Result exec(ProcessBuilder pb) throws IOException {
        Process p = pb.redirectErrorStream(true).start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timeout");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip());
    }
}
