package org.mkdt.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.testing.Browser;

/**
 * report.html as a reader sees it: rendered by headless Chromium through
 * scripts/check-report.sh, which must find no console message and write a screenshot; the
 * screenshot must show the page (text and pictures, not a blank). Skips, saying why, where
 * Chromium is not installed (CI installs Debian's chromium).
 */
class ReportBrowserTest {
    @TempDir
    Path dir;

    @Test
    void theReportRendersInChromiumWithItsPicturesAndNoConsoleErrors() throws Exception {
        assumeChromium();
        Map<String, double[][]> series = Map.of("1% labels", new double[][] {{80.1, 80.4, 81.3}, {1.0, 0.9, 1.1}});
        ReportPage page = new ReportPage("MKDT run test: blobs");
        page.heading("Linear probe accuracy").markdownTable("| row | 1% labels |\n|---|---|\n| MKDT | 80.10 ± 1.00 |\n| none | 81.30 ± 1.10 |\n")
                .image("Probe accuracy", Pictures.resultsChart("test", List.of("MKDT", "random", "none"), series, Map.of("1% labels", 81.3)))
                .image("Loss", Pictures.lossPlot(new double[] {1, 0.8, 0.7, 0.5}, new int[] {0, 1, 0, 1}));
        page.heading("Configuration").preformatted("{\"name\": \"test\"}");
        Path report = dir.resolve("report.html"), shot = dir.resolve("report.png");
        Files.writeString(report, page.html(), StandardCharsets.UTF_8);
        Browser.Result r = check(report, shot);
        assertEquals(0, r.exit(), r.out());
        BufferedImage img = ImageIO.read(shot.toFile());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) for (int x = 0; x < img.getWidth(); x += 3) colours.add(img.getRGB(x, y));
        assertTrue(colours.size() > 50, "the screenshot looks blank: " + colours.size() + " colours");
    }

    @Test
    void aPageThatLogsToTheConsoleFails() throws Exception {
        assumeChromium();
        Path page = dir.resolve("bad.html");
        Files.writeString(page, "<!DOCTYPE html><html><body><p>x</p><script>console.error('broken')</script></body></html>");
        Browser.Result r = check(page, dir.resolve("bad.png"));
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.out().contains("broken"), r.out());
    }

    static Browser.Result check(Path report, Path shot) throws Exception {
        return Browser.check(report, shot);
    }

    static void assumeChromium() {
        assumeTrue(Browser.available(), "no chromium on the PATH (apt-get install chromium): the browser check of report.html is skipped");
    }
}
