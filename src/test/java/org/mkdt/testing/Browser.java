package org.mkdt.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** scripts/check-report.sh from tests: headless Chromium's rendering of a page, where Chromium is installed. */
public final class Browser {
    private Browser() {}

    public record Result(int exit, String out) {}

    public static boolean available() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, "chromium"))) return true;
        }
        return false;
    }

    public static Result check(Path report, Path shot) throws Exception {
        Process p = new ProcessBuilder("bash", "scripts/check-report.sh", report.toString(), shot.toString()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(150, TimeUnit.SECONDS), "check-report.sh timed out");
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
