package org.mkdt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.mkdt.check.OpCatalog;
import picocli.CommandLine;

class CheckCommandTest {
    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void checkGradientsJsonListsEveryOpWithinTolerance() throws Exception {
        Run r = run("check", "gradients", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertTrue(doc.get("pass").asBoolean());
        assertEquals(OpCatalog.all().size(), doc.get("ops").size());
        for (JsonNode op : doc.get("ops")) {
            assertTrue(op.get("first_order_error").asDouble() <= CheckCommand.TOLERANCE, op.toString());
            assertTrue(op.get("second_order_error").asDouble() <= CheckCommand.TOLERANCE, op.toString());
        }
    }

    @Test
    void checkMetagradJsonPassesAllThreeComparisons() throws Exception {
        Run r = run("check", "metagrad", "--json", "--trace");
        assertEquals(0, r.code(), r.err());
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertTrue(doc.get("pass").asBoolean());
        assertTrue(doc.get("naive_vs_recompute").get("pass").asBoolean());
        assertEquals(3, doc.get("recompute_vs_finite_differences").size());
        assertTrue(doc.get("peak_memory").get("pass").asBoolean());
        assertEquals(6, doc.get("reverse_sweep").size());
    }

    @Test
    void badArgumentsExitNonZeroWithOneLine() {
        Run r = run("check", "everything");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("everything"), r.err());
        Run b = run("bench", "cpu", "--batch", "0");
        assertEquals(1, b.code());
        assertEquals("mkdt: error: --batch: 0 is outside 1..4096", b.err().strip());
    }
}
