package org.mkdt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every description picocli prints is a format string: a lone '%' (as in "1% labels") makes it
 * warn on stderr and print the raw text. Each command's help, subcommands included, is rendered
 * with stderr captured, and must render without a warning.
 */
class HelpTextTest {
    @Test
    void everyHelpPageRendersWithoutAWarning() {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> pages = new ArrayList<>();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            walk(Main.commandLine(), pages);
        } finally {
            System.setErr(saved);
        }
        assertEquals("", err.toString(StandardCharsets.UTF_8), "warnings while rendering the help pages");
        assertTrue(pages.size() >= 10, "rendered " + pages + ": the command tree was not found");
    }

    private static void walk(CommandLine cl, List<String> pages) {
        String usage = cl.getUsageMessage();
        assertTrue(usage.startsWith("Usage: "), usage);
        pages.add(cl.getCommandSpec().qualifiedName());
        for (CommandLine sub : cl.getSubcommands().values()) walk(sub, pages);
    }
}
