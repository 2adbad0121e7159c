package org.mkdt.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mkdt.config.RunConfig;
import org.mkdt.data.Artefacts;
import org.mkdt.io.BadFileException;

/**
 * What determines each stage's artefacts, so that a stage is redone exactly when something it
 * depends on changed. A stage's keys are the configuration sections it reads: the teacher
 * {seed, data, teacher}; an expert those and {experts}; the initial set those, {init} and
 * distill.alphaInit (the lr it records); distillation all of it except the keys that only steer
 * iterations still to come ({@link #CONTINUABLE}). Every artefact records its stage's keys as
 * JSON ("config") and their SHA-256 ("config_sha256"); a reader compares them with the
 * configuration it runs under and names the first key that differs. The run name and the
 * device are in no stage's keys: they choose where and on what, not what.
 */
public final class Provenance {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The distill keys {@code --resume} may change; each change is recorded with the iteration it took effect. */
    public static final List<String> CONTINUABLE = List.of("iterations", "checkpointEvery", "lrImg", "lrY", "lrLr");

    /** The stages that write artefacts, in pipeline order. */
    public enum Stage {
        TEACHER, EXPERTS, INIT, DISTILL;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private Provenance() {}

    /**
     * Keys added after artefacts were first written, with the value that their behaviour had
     * before the key existed. A key at that value is left out of the stamp, so artefacts made
     * before it existed stay valid (same keys, same hash); at any other value it is recorded
     * and an older artefact no longer matches.
     */
    static final Map<String, JsonNode> ADDED_LATER = Map.of("teacher.cropMin", JSON.getNodeFactory().numberNode(0.08),
            "experts.head", JSON.getNodeFactory().textNode("linear"));

    /**
     * The configuration keys that determine {@code stage}'s artefacts, as a JSON object: those
     * of {@link #allKeys} but the {@link #ADDED_LATER} ones at their old behaviour.
     */
    public static ObjectNode keys(RunConfig c, Stage stage) {
        ObjectNode k = allKeys(c, stage);
        for (Map.Entry<String, JsonNode> e : ADDED_LATER.entrySet()) {
            String[] path = e.getKey().split("\\.");
            JsonNode parent = k.get(path[0]);
            if (parent instanceof ObjectNode o && o.has(path[1]) && same(o.get(path[1]), e.getValue())) o.remove(path[1]);
        }
        return k;
    }

    /** Every configuration key that determines {@code stage}'s artefacts, as a JSON object. */
    static ObjectNode allKeys(RunConfig c, Stage stage) {
        ObjectNode all = JSON.valueToTree(c);
        ObjectNode k = JSON.createObjectNode();
        k.set("seed", all.get("seed"));
        k.set("data", all.get("data"));
        k.set("teacher", all.get("teacher"));
        if (stage.compareTo(Stage.EXPERTS) >= 0) k.set("experts", all.get("experts"));
        if (stage.compareTo(Stage.INIT) >= 0) {
            k.set("init", all.get("init"));
            ObjectNode d = k.putObject("distill");
            d.set("alphaInit", all.get("distill").get("alphaInit"));
        }
        if (stage == Stage.DISTILL) {
            ObjectNode d = ((ObjectNode) all.get("distill")).deepCopy();
            d.remove(CONTINUABLE);
            k.set("distill", d);
        }
        return k;
    }

    /** SHA-256 of the stage's keys in their canonical (compact) JSON. */
    public static String hash(RunConfig c, Stage stage) {
        return Artefacts.configHash(keys(c, stage).toString());
    }

    /** The metadata every artefact of {@code stage} carries: its stage, keys and their hash. */
    public static Map<String, String> stamp(RunConfig c, Stage stage) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("stage", stage.label());
        m.put("config", keys(c, stage).toString());
        m.put("config_sha256", hash(c, stage));
        return m;
    }

    /** Whether the artefact's metadata says it was made under {@code c}'s keys for {@code stage}. */
    public static boolean matches(Map<String, String> metadata, RunConfig c, Stage stage) {
        return hash(c, stage).equals(metadata.get("config_sha256"));
    }

    /**
     * Accepts an input artefact only if it was made under the same keys; else one line naming the
     * file, the first key that differs (both values) and what to run.
     */
    public static void require(String file, Map<String, String> metadata, RunConfig c, Stage stage, String remedy) {
        if (matches(metadata, c, stage)) return;
        throw new BadFileException(file, "made with different settings (" + difference(metadata, c, stage) + "); " + remedy);
    }

    /** "teacher.lr is 0.005 there, 0.01 now", or what is known where the file records no keys. */
    public static String difference(Map<String, String> metadata, RunConfig c, Stage stage) {
        String recorded = metadata.get("config");
        if (recorded == null) return "it records no settings, only config_sha256 " + metadata.getOrDefault("config_sha256", "(none)");
        try {
            String d = firstDifference(JSON.readTree(recorded), allKeys(c, stage), "");
            return d != null ? d : "config_sha256 " + metadata.get("config_sha256") + " does not match its own settings";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return "its recorded settings are malformed JSON";
        }
    }

    /** The first leaf (in the current configuration's key order) whose values differ, or null. */
    static String firstDifference(JsonNode there, JsonNode now, String path) {
        if (now.isObject()) {
            if (there == null || !there.isObject()) return (path.isEmpty() ? "(root)" : path) + " is " + there + " there, an object now";
            Iterator<Map.Entry<String, JsonNode>> it = now.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                String d = firstDifference(there.get(e.getKey()), e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey());
                if (d != null) return d;
            }
            Iterator<String> names = there.fieldNames();
            while (names.hasNext()) {
                String n = names.next();
                if (!now.has(n)) return (path.isEmpty() ? n : path + "." + n) + " is recorded there, unknown now";
            }
            return null;
        }
        if (there == null) {
            JsonNode before = ADDED_LATER.get(path); // absent there: made before the key existed
            return before != null && same(before, now) ? null : path + " is absent there, " + now + " now";
        }
        return same(there, now) ? null : path + " is " + there + " there, " + now + " now";
    }

    private static boolean same(JsonNode a, JsonNode b) {
        return a.isNumber() && b.isNumber() ? a.decimalValue().compareTo(b.decimalValue()) == 0 : a.equals(b); // 0 read back is an int, written a long
    }
}
