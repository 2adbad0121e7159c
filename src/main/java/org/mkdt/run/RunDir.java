package org.mkdt.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.mkdt.backend.cpu.Parallel;
import org.mkdt.config.ConfigLoader;
import org.mkdt.config.RunConfig;
import org.mkdt.io.AtomicFile;

/**
 * runs/NAME/: the resolved configuration (config.json, earlier versions in
 * config.history.jsonl), the environment (environment.json), metrics as JSON lines
 * (metrics.jsonl) and the artefacts of every stage, by fixed names.
 *
 * <p>{@link #of} only names the folder (and refuses one outside the runs folder); nothing is
 * written until {@link #begin}, which a command calls once its configuration and inputs are
 * validated, so a refused command leaves the run as it was. begin also takes the run's lock
 * (runs/NAME/lock, an OS file lock: released when the process ends however it ends, so a
 * stale lock file is harmless).
 */
public final class RunDir {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Locks this process holds, released by {@link #releaseLocks} when a command ends. */
    private static final List<FileChannel> HELD = new ArrayList<>();

    private final Path root;
    private final RunConfig config;

    private RunDir(Path root, RunConfig config) {
        this.root = root;
        this.config = config;
    }

    /** The run folder runsDir/NAME, checked to lie strictly inside runsDir; writes nothing. */
    public static RunDir of(Path runsDir, RunConfig config) {
        Path base = runsDir.toAbsolutePath().normalize();
        Path root = base.resolve(config.name()).normalize();
        if (!base.equals(root.getParent())) {
            throw new IllegalArgumentException("name: run name '" + config.name() + "' does not name a folder directly inside " + runsDir);
        }
        return new RunDir(runsDir.resolve(config.name()), config);
    }

    /**
     * Starts a command's work: takes the lock (shared: many expert shards at once; exclusive:
     * everything else), records the configuration (a changed one first goes to
     * config.history.jsonl) and the environment, and, holding the exclusive lock, removes the
     * temporary files of writes that a killed process left behind.
     */
    public void begin(String command, String backend, boolean sharedLock) throws IOException {
        Files.createDirectories(root);
        lock(command, sharedLock);
        String json = ConfigLoader.toJson(config);
        Path cfg = root.resolve("config.json");
        String before = Files.isRegularFile(cfg) ? Files.readString(cfg, StandardCharsets.UTF_8) : null;
        if (!json.equals(before)) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("time", Instant.now().toString());
            h.put("command", command);
            h.put("config", JSON.readTree(json));
            Files.writeString(root.resolve("config.history.jsonl"), JSON.writeValueAsString(h) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            AtomicFile.write(cfg, json.getBytes(StandardCharsets.UTF_8));
        }
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("java", Runtime.version().toString());
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        env.put("cpu_threads", Parallel.threads());
        env.put("gc", org.mkdt.util.Jvm.collector());
        env.put("device_requested", config.device());
        env.put("backend", backend);
        env.put("command", command);
        AtomicFile.write(root.resolve("environment.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(env));
        if (!sharedLock) removeStrayTemporaries();
    }

    private void lock(String command, boolean shared) throws IOException {
        Path file = root.resolve("lock");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock(0, Long.MAX_VALUE, shared);
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            String holder = Files.readString(file, StandardCharsets.UTF_8).strip();
            ch.close();
            throw new IllegalStateException(file + ": another mkdt process is working on this run" + (holder.isEmpty() ? "" : " (" + holder + ")")
                    + "; wait for it to finish or stop it");
        }
        if (!shared) {
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + ", mkdt " + command + ", since " + Instant.now()).getBytes(StandardCharsets.UTF_8)));
            ch.force(false);
        }
        synchronized (HELD) {
            HELD.add(ch);
        }
    }

    /** Releases every run lock this process holds (the command line calls it when a command ends). */
    public static void releaseLocks() {
        synchronized (HELD) {
            for (FileChannel ch : HELD) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // closing releases the lock; a failure leaves it to the process's exit
                }
            }
            HELD.clear();
        }
    }

    /** ".NAME.*.tmp" files under the run (AtomicFile's), which only a killed write leaves. */
    private void removeStrayTemporaries() throws IOException {
        for (Path dir : new Path[] {root, expertsDir(), distillDir()}) {
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    String n = f.getFileName().toString();
                    if (n.startsWith(".") && n.endsWith(".tmp") && Files.isRegularFile(f)) Files.deleteIfExists(f);
                }
            }
        }
    }

    public Path root() {
        return root;
    }

    public RunConfig config() {
        return config;
    }

    /** The stamp (stage, keys, their hash) of this run's artefacts of {@code stage}; see {@link Provenance}. */
    public Map<String, String> stamp(Provenance.Stage stage) {
        return Provenance.stamp(config, stage);
    }

    /** SHA-256 of the whole resolved configuration (the evaluation's report records it). */
    public String configHash() {
        return org.mkdt.data.Artefacts.configHash(ConfigLoader.toJson(config));
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

    private Path metricsFile() {
        return root.resolve("metrics.jsonl");
    }

    /** Appends one JSON object to metrics.jsonl (stage, and the figures). */
    public synchronized void metric(String stage, Map<String, Object> figures) throws IOException {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("stage", stage);
        line.putAll(figures);
        Files.writeString(metricsFile(), JSON.writeValueAsString(line) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /**
     * Drops the {@code stage} lines whose "iteration" exceeds {@code iteration}: what a killed
     * run logged after its last checkpoint, which a resume redoes (and logs again). Atomic.
     */
    public synchronized void dropMetricsAfter(String stage, int iteration) throws IOException {
        if (!Files.isRegularFile(metricsFile())) return;
        StringBuilder kept = new StringBuilder();
        boolean dropped = false;
        for (String line : Files.readAllLines(metricsFile(), StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException torn) {
                dropped = true; // a line cut short by a kill
                continue;
            }
            if (n != null && stage.equals(n.path("stage").asText()) && n.path("iteration").asInt(-1) > iteration) {
                dropped = true;
                continue;
            }
            kept.append(line).append('\n');
        }
        if (dropped) AtomicFile.write(metricsFile(), kept.toString().getBytes(StandardCharsets.UTF_8));
    }
}
