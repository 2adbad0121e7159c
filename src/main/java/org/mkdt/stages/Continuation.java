package org.mkdt.stages;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mkdt.config.RunConfig;
import org.mkdt.run.Provenance;

/**
 * Resuming a distillation with changed settings: only the keys that steer iterations still to
 * come ({@link Provenance#CONTINUABLE}) may change; each change is recorded, in the checkpoint's
 * "changes" and in metrics.jsonl, with the first iteration it applies to. The checkpoint keeps
 * the values it ran under in "continuable".
 */
public final class Continuation {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** distill.KEY went from {@code before} to {@code now}, applying from iteration {@code fromIteration} on. */
    public record Change(int fromIteration, String key, String before, String now) {
        public Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("from_iteration", fromIteration);
            m.put("key", "distill." + key);
            m.put("before", before);
            m.put("now", now);
            return m;
        }
    }

    private Continuation() {}

    /** The continuable keys' values as JSON, in {@link Provenance#CONTINUABLE}'s order. */
    public static String current(RunConfig.Distill d) {
        ObjectNode all = JSON.valueToTree(d), out = JSON.createObjectNode();
        for (String k : Provenance.CONTINUABLE) out.set(k, all.get(k));
        return out.toString();
    }

    /** The changes from the values a checkpoint recorded to {@code d}'s (none where it recorded none). */
    public static List<Change> changes(Map<String, String> checkpointMetadata, RunConfig.Distill d, int iterationsDone) {
        String recorded = checkpointMetadata.get("continuable");
        List<Change> out = new ArrayList<>();
        if (recorded == null) return out;
        JsonNode before = read(recorded), now = read(current(d));
        for (String k : Provenance.CONTINUABLE) {
            if (!now.get(k).equals(before.get(k))) out.add(new Change(iterationsDone + 1, k, String.valueOf(before.get(k)), now.get(k).toString()));
        }
        return out;
    }

    /** The recorded history (a JSON array, or null) with {@code changes} appended. */
    public static String append(String history, List<Change> changes) {
        ArrayNode a = history == null ? JSON.createArrayNode() : (ArrayNode) read(history);
        for (Change c : changes) a.add(JSON.valueToTree(c.asMap()));
        return a.toString();
    }

    /** "experts [0, 1, 2]" from an {@link ExpertSet#describe()} text, for messages. */
    public static String brief(String expertSet) {
        List<String> parts = new ArrayList<>();
        for (JsonNode n : read(expertSet)) parts.add(n.path("index").asText() + (n.path("sha256").asText().isEmpty() ? "" : ":" + n.path("sha256").asText().substring(0, 8)));
        return parts.toString();
    }

    private static JsonNode read(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            if (n == null) throw new IllegalArgumentException("empty JSON in a checkpoint's metadata");
            return n;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("malformed JSON in a checkpoint's metadata: " + e.getOriginalMessage());
        }
    }
}
