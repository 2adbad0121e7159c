package org.mkdt.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Builds a {@link RunConfig}: start from a preset (src/main/resources/presets/NAME.json), lay a
 * user's JSON or YAML file over it (only the keys it names change), then the command line's
 * {@code key.path=value} overrides, and bind the result strictly: unknown keys, wrong types,
 * missing keys and out-of-range values are errors that name the key.
 */
public final class ConfigLoader {
    public static final List<String> PRESETS = List.of("demo", "showcase", "fmnist", "cifar10-2pct", "cifar10-5pct", "cifar100-2pct", "cifar100-5pct", "tiny-2pct", "tiny-5pct");

    /** A configuration is a few hundred bytes; anything past this is not one (and would parse for minutes). */
    public static final long MAX_CONFIG_BYTES = 1L << 20;

    private static final ObjectMapper JSON = strict(JsonMapper.builder().build());
    private static final ObjectMapper YAML = strict(new ObjectMapper(new YAMLFactory()));

    private ConfigLoader() {}

    private static ObjectMapper strict(ObjectMapper m) {
        return m.configure(MapperFeature.ALLOW_COERCION_OF_SCALARS, false)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }

    /**
     * @param preset    a name from {@link #PRESETS}
     * @param file      a .json, .yaml or .yml file, or null
     * @param overrides "key.path=value" pairs (value parsed as JSON where it can be, else a string)
     */
    public static RunConfig load(String preset, Path file, List<String> overrides) {
        ObjectNode tree = presetTree(preset);
        if (file != null) merge(tree, readFile(file), "");
        for (String o : overrides) override(tree, o);
        return bind(tree);
    }

    /** The config as the JSON written to runs/NAME/config.json. */
    public static String toJson(RunConfig c) {
        try {
            return JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(c);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode presetTree(String preset) {
        if (!PRESETS.contains(preset)) throw new ConfigException("preset", "unknown preset '" + preset + "' (" + String.join(", ", PRESETS) + ")");
        try (InputStream in = ConfigLoader.class.getResourceAsStream("/presets/" + preset + ".json")) {
            if (in == null) throw new IllegalStateException("preset resource missing: " + preset);
            return (ObjectNode) JSON.readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException("preset " + preset + " is unreadable", e);
        }
    }

    private static JsonNode readFile(Path file) {
        String name = file.getFileName().toString();
        ObjectMapper m = name.endsWith(".yaml") || name.endsWith(".yml") ? YAML : name.endsWith(".json") ? JSON : null;
        if (m == null) throw new ConfigException(file.toString(), "a config file ends in .json, .yaml or .yml");
        byte[] bytes;
        try {
            bytes = org.mkdt.io.Files2.readAll(file, MAX_CONFIG_BYTES, "a configuration file may hold");
        } catch (org.mkdt.io.BadFileException e) {
            throw new ConfigException(file.toString(), e.problem());
        }
        try {
            JsonNode n = m.readTree(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
            if (n == null || !n.isObject()) throw new ConfigException(file.toString(), "must hold a mapping of keys to values");
            return n;
        } catch (JsonProcessingException e) {
            throw new ConfigException(file.toString(), "malformed: " + e.getOriginalMessage().replaceAll("\\s+", " "));
        }
    }

    /** Lays {@code over} onto {@code base}: mappings merge key by key, anything else replaces. */
    private static void merge(ObjectNode base, JsonNode over, String path) {
        Iterator<Map.Entry<String, JsonNode>> it = over.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
            JsonNode old = base.get(e.getKey());
            if (old == null) throw new ConfigException(key, "unknown key (known here: " + known(base) + ")");
            if (old.isObject() && e.getValue().isObject()) merge((ObjectNode) old, e.getValue(), key);
            else base.set(e.getKey(), e.getValue());
        }
    }

    private static void override(ObjectNode tree, String assignment) {
        int eq = assignment.indexOf('=');
        if (eq <= 0) throw new ConfigException(assignment, "an override is key.path=value");
        String key = assignment.substring(0, eq).strip(), text = assignment.substring(eq + 1).strip();
        String[] parts = key.split("\\.", -1);
        for (String part : parts) {
            if (part.isEmpty()) throw new ConfigException(key.isEmpty() ? assignment : key, "an override is key.path=value, with no empty part in key.path");
        }
        ObjectNode node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode next = node.get(parts[i]);
            if (next == null || !next.isObject()) throw new ConfigException(key, "unknown key (known here: " + known(node) + ")");
            node = (ObjectNode) next;
        }
        String last = parts[parts.length - 1];
        if (!node.has(last)) throw new ConfigException(key, "unknown key (known here: " + known(node) + ")");
        JsonNode value;
        try {
            value = JSON.readTree(text);
        } catch (JsonProcessingException notJson) {
            value = JSON.getNodeFactory().textNode(text);
        }
        node.set(last, value == null || value.isMissingNode() ? JSON.getNodeFactory().textNode(text) : value);
    }

    private static RunConfig bind(JsonNode tree) {
        try {
            return JSON.treeToValue(tree, RunConfig.class);
        } catch (UnrecognizedPropertyException e) {
            throw new ConfigException(path(e), "unknown key");
        } catch (JsonMappingException e) {
            if (e.getCause() instanceof ConfigException c) throw c;
            throw new ConfigException(path(e), "wrong type or missing value (" + e.getOriginalMessage().replaceAll("\\s+", " ") + ")");
        } catch (JsonProcessingException e) {
            throw new ConfigException("(root)", e.getOriginalMessage());
        }
    }

    private static String path(JsonMappingException e) {
        String p = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]").collect(Collectors.joining("."));
        return p.isEmpty() ? "(root)" : p;
    }

    private static String known(JsonNode n) {
        Iterator<String> it = n.fieldNames();
        StringBuilder b = new StringBuilder();
        while (it.hasNext()) b.append(b.length() > 0 ? ", " : "").append(it.next());
        return b.toString();
    }
}
