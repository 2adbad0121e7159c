package org.mkdt.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mkdt.config.ConfigLoader;
import org.mkdt.config.RunConfig;

class ProvenanceTest {
    private static RunConfig demo(String... overrides) {
        return ConfigLoader.load("demo", null, List.of(overrides));
    }

    @Test
    void aKeyAddedLaterAtItsOldBehaviourLeavesOlderArtefactsValid() {
        // teacher.cropMin came after artefacts existed: at 0.08 (the crop every teacher had
        // before) it is not in the stamp, so an artefact made before it matches; at 0.5 it is.
        RunConfig before = demo(), mild = demo("teacher.cropMin=0.5");
        Map<String, String> old = Provenance.stamp(before, Provenance.Stage.TEACHER);
        assertFalse(old.get("config").contains("cropMin"), old.get("config"));
        assertTrue(Provenance.stamp(mild, Provenance.Stage.TEACHER).get("config").contains("\"cropMin\":0.5"));
        assertNotEquals(old.get("config_sha256"), Provenance.hash(mild, Provenance.Stage.TEACHER));
        assertTrue(Provenance.matches(old, demo("teacher.cropMin=0.08"), Provenance.Stage.TEACHER));
        assertFalse(Provenance.matches(old, mild, Provenance.Stage.TEACHER));
        assertEquals("teacher.cropMin is absent there, 0.5 now", Provenance.difference(old, mild, Provenance.Stage.TEACHER));
        Map<String, String> made = Provenance.stamp(mild, Provenance.Stage.EXPERTS);
        assertEquals("teacher.cropMin is 0.5 there, 0.08 now", Provenance.difference(made, before, Provenance.Stage.EXPERTS));
    }
}
