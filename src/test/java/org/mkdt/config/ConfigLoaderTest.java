package org.mkdt.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    /**
     * The showcase preset is the setting docs/results.md measured ("Ten thousand real images"):
     * the demo with the 936-step teacher's and that run's overrides, nothing else changed.
     */
    @Test
    void theShowcaseIsTheDemoWithTheMeasuredTenThousandImageSettings() {
        RunConfig measured = ConfigLoader.load("demo", null, List.of("name=showcase", "data.limit=10000", "teacher.epochs=24", "teacher.warmupEpochs=1",
                "experts.count=8", "experts.head=none", "init.fraction=0.01", "distill.iterations=200"));
        assertEquals(measured, ConfigLoader.load("showcase", null, List.of()));
    }

    @Test
    void everyPresetLoadsAndTheCifarOnesFollowThePaperTable() {
        for (String p : ConfigLoader.PRESETS) assertEquals(p, ConfigLoader.load(p, null, List.of()).name());
        RunConfig c = ConfigLoader.load("cifar10-5pct", null, List.of());
        assertEquals(0.05, c.init().fraction());
        assertEquals(40, c.distill().synSteps());
        assertEquals(5, c.distill().maxStartEpoch());
        assertEquals(1e4, c.distill().lrImg());
        assertEquals(1e5, ConfigLoader.load("tiny-2pct", null, List.of()).distill().lrImg());
        assertNull(c.teacher().importFile());
    }

    @Test
    void aYamlFileAndOverridesChangeOnlyWhatTheyName() throws Exception {
        Path f = dir.resolve("my.yaml");
        Files.writeString(f, "name: mine\nexperts:\n  count: 7\n");
        RunConfig c = ConfigLoader.load("demo", f, List.of("teacher.epochs=3", "init.method=random", "data.dataDir=/data"));
        assertEquals("mine", c.name());
        assertEquals(7, c.experts().count());
        assertEquals(4, c.experts().epochs());
        assertEquals(3, c.teacher().epochs());
        assertEquals("random", c.init().method());
        assertEquals("/data", c.data().dataDir());
        RunConfig json = ConfigLoader.load("demo", null, List.of());
        assertTrue(ConfigLoader.toJson(json).contains("\"synSteps\" : 8"));
    }

    private static String error(Runnable r) {
        return assertThrows(ConfigException.class, r::run).getMessage();
    }

    @Test
    void unknownKeysWrongTypesAndBadValuesAreNamed() throws Exception {
        Path f = dir.resolve("typo.json");
        Files.writeString(f, "{\"teacher\": {\"epohcs\": 3}}");
        assertEquals("config: teacher.epohcs: unknown key (known here: encoder, width, representation, epochs, warmupEpochs, batch, lr, momentum, weightDecay, projectorDim, lambda, cropMin, importFile)",
                error(() -> ConfigLoader.load("demo", f, List.of())));
        assertTrue(error(() -> ConfigLoader.load("demo", null, List.of("teacher.epochs=\"many\""))).startsWith("config: teacher.epochs: wrong type"));
        assertTrue(error(() -> ConfigLoader.load("demo", null, List.of("teacher.epochs=2.5"))).startsWith("config: teacher.epochs: wrong type"));
        assertEquals("config: experts.count: must be positive, got 0.0", error(() -> ConfigLoader.load("demo", null, List.of("experts.count=0"))));
        assertEquals("config: init.method: must be one of high-loss, random, got best", error(() -> ConfigLoader.load("demo", null, List.of("init.method=best"))));
        assertEquals("config: experts.head: must be one of linear, none, got mlp", error(() -> ConfigLoader.load("demo", null, List.of("experts.head=\"mlp\""))));
        assertTrue(error(() -> ConfigLoader.load("demo", null, List.of("nosuch.key=1"))).startsWith("config: nosuch.key: unknown key"));
        assertTrue(error(() -> ConfigLoader.load("nope", null, List.of())).startsWith("config: preset: unknown preset 'nope'"));
        assertTrue(error(() -> ConfigLoader.load("demo", dir.resolve("missing.yaml"), List.of())).endsWith("missing.yaml: no such file"));
        assertTrue(error(() -> ConfigLoader.load("demo", null, List.of("distill.maxStartEpoch=4"))).contains("exceeds the experts' 4 epochs"));
    }
}
