package org.mkdt.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.mkdt.backend.cpu.Parallel;
import org.mkdt.config.ConfigLoader;
import org.mkdt.config.RunConfig;
import org.mkdt.data.Artefacts;
import org.mkdt.io.AtomicFile;

/**
 * runs/NAME/: the resolved configuration (config.json), the environment (environment.json),
 * metrics as JSON lines (metrics.jsonl) and the artefacts of every stage, by fixed names.
 */
public final class RunDir {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final RunConfig config;
    private final String configHash;

    private RunDir(Path root, RunConfig config) {
        this.root = root;
        this.config = config;
        this.configHash = Artefacts.configHash(ConfigLoader.toJson(config));
    }

    /** Opens (creating) runsDir/NAME and records the configuration and the environment. */
    public static RunDir open(Path runsDir, RunConfig config, String backend) throws IOException {
        RunDir r = new RunDir(runsDir.resolve(config.name()), config);
        Files.createDirectories(r.root);
        AtomicFile.write(r.root.resolve("config.json"), ConfigLoader.toJson(config).getBytes(StandardCharsets.UTF_8));
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("java", Runtime.version().toString());
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        env.put("cpu_threads", Parallel.threads());
        env.put("device_requested", config.device());
        env.put("backend", backend);
        env.put("config_sha256", r.configHash);
        AtomicFile.write(r.root.resolve("environment.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(env));
        return r;
    }

    public Path root() {
        return root;
    }

    public RunConfig config() {
        return config;
    }

    /** SHA-256 of the resolved configuration, stamped into every artefact. */
    public String configHash() {
        return configHash;
    }

    public Path teacherFile() {
        return root.resolve("teacher.safetensors");
    }

    /** The trained teacher's encoder (absent where the representations were imported). */
    public Path teacherEncoderFile() {
        return root.resolve("teacher_encoder.safetensors");
    }

    public Path expertsDir() {
        return root.resolve("experts");
    }

    public Path expertFile(int index) {
        return expertsDir().resolve(String.format("expert_%03d.safetensors", index));
    }

    public Path initFile() {
        return root.resolve("init.safetensors");
    }

    /** Stage 4's working files: the resumable checkpoint and the pictures of the run. */
    public Path distillDir() {
        return root.resolve("distill");
    }

    public Path checkpointFile() {
        return distillDir().resolve("checkpoint.safetensors");
    }

    /** The distilled set (images, targets, learned lr), rewritten at every checkpoint. */
    public Path distilledFile() {
        return root.resolve("distilled.safetensors");
    }

    /** The evaluation's results, table, chart and report. */
    public Path evalDir() {
        return root.resolve("eval");
    }

    /** Appends one JSON object to metrics.jsonl (stage, and the figures). */
    public synchronized void metric(String stage, Map<String, Object> figures) throws IOException {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("stage", stage);
        line.putAll(figures);
        Files.writeString(root.resolve("metrics.jsonl"), JSON.writeValueAsString(line) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
