package org.mkdt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.mkdt.check.OpCatalog;

class CheckCommandTest {
    @Test
    void checkGradientsJsonListsEveryOpWithinTolerance() throws Exception {
        CliRun r = CliRun.of("check", "gradients", "--json");
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
        CliRun r = CliRun.of("check", "metagrad", "--json", "--trace");
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
        CliRun r = CliRun.of("check", "everything");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("everything"), r.err());
        CliRun b = CliRun.of("bench", "cpu", "--batch", "0");
        assertEquals(1, b.code());
        assertEquals("mkdt: error: --batch: 0 is outside 1..4096", b.err().strip());
    }
}
