package org.mkdt.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mkdt.io.BadFileException;
import org.mkdt.io.NdArray;
import org.mkdt.io.Npy;
import org.mkdt.io.SafeTensors;
import org.mkdt.nn.ParamLayout;

/**
 * The project's artefacts, each one safetensors file with string metadata: "format" (which
 * artefact), "format_version", "config_sha256" (the producing configuration's hash) and what
 * the kind needs (the flat-parameter layout of a trajectory, the normalisation of a distilled
 * set). docs/formats.md shows how to load each one with numpy or PyTorch. Writes are atomic.
 */
public final class Artefacts {
    public static final String FORMAT_VERSION = "1";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a file holds, by its "format" metadata. */
    public enum Kind {
        TEACHER_REPRESENTATIONS("mkdt.teacher_representations"),
        TEACHER_ENCODER("mkdt.teacher_encoder"),
        EXPERT_TRAJECTORY("mkdt.expert_trajectory"),
        DISTILLED_SET("mkdt.distilled_set"),
        DISTILL_CHECKPOINT("mkdt.distill_checkpoint");

        private final String format;

        Kind(String format) {
            this.format = format;
        }

        public String format() {
            return format;
        }

        static Kind of(String format) {
            for (Kind k : values()) if (k.format.equals(format)) return k;
            return null;
        }
    }

    /** An expert's snapshots: row s is the flat parameter vector after epoch s (row 0: at init). */
    public record Trajectory(NdArray snapshots, List<ParamLayout.Entry> layout, Map<String, String> metadata) {}

    /** A distilled set: images (M, C, S, S), targets (M, D), the learned lr, and the normalisation the images are in. */
    public record DistilledSet(NdArray images, NdArray targets, double lr, Normalization normalization, Map<String, String> metadata) {}

    /**
     * Distillation's resumable state: the learnables, their momentum buffers (float32, exact),
     * the learned lr and its momentum (float64, exact), iterations done and the loss history.
     */
    public record Checkpoint(NdArray images, NdArray targets, NdArray vImages, NdArray vTargets, double alpha, double vAlpha,
                             int iteration, double[] losses, Map<String, String> metadata) {}

    private Artefacts() {}

    /** A distilled set's metadata: the iteration it holds (init: absent). */
    public static final String ITERATION_KEY = "iteration";
    /** A distilled set's metadata: "true" once distill.iterations are done, "false" for an intermediate set. */
    public static final String FINISHED_KEY = "finished";

    /** SHA-256 (hex) of a configuration's canonical text. */
    public static String configHash(String canonicalConfig) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonicalConfig.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Metadata naming the kind, then the caller's stamp (provenance: stage, config, config_sha256, ...). */
    private static Map<String, String> metadata(Kind kind, Map<String, String> stamp) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", kind.format());
        m.put("format_version", FORMAT_VERSION);
        m.putAll(stamp);
        return m;
    }

    /** A stamp holding only a configuration hash (tests, and tools that have no run). */
    public static Map<String, String> stamp(String configHash) {
        return Map.of("config_sha256", configHash);
    }

    // ---- teacher representations -------------------------------------------------------------

    public static void writeRepresentations(Path file, NdArray reps, Map<String, String> stamp) throws IOException {
        if (reps.shape().length != 2) throw new IllegalArgumentException("representations must be (N, D), got " + reps.describe());
        SafeTensors.write(file, Map.of("representations", reps), metadata(Kind.TEACHER_REPRESENTATIONS, stamp));
    }

    /**
     * Teacher representations from this project's artefact, from any safetensors file with one
     * tensor, or from a .npy file (a PyTorch user's {@code np.save}): float (N, D), finite, and
     * N = {@code expectedCount} unless that is negative.
     */
    public static NdArray readRepresentations(Path file, int expectedCount) {
        return readTeacher(file, expectedCount).representations();
    }

    /** Teacher representations with the file's metadata (its provenance; empty for .npy). */
    public record TeacherRepresentations(NdArray representations, Map<String, String> metadata) {}

    /** As {@link #readRepresentations}, keeping the metadata. */
    public static TeacherRepresentations readTeacher(Path file, int expectedCount) {
        String src = file.toString();
        NdArray a;
        Map<String, String> meta = Map.of();
        if (file.getFileName().toString().endsWith(".npy")) {
            a = Npy.read(file);
        } else {
            SafeTensors.Contents c = SafeTensors.read(file);
            meta = c.metadata();
            a = c.tensors().get("representations");
            if (a == null) {
                if (c.tensors().size() != 1) throw new BadFileException(src, "expected a tensor named 'representations' or exactly one tensor, found " + c.tensors().keySet());
                a = c.tensors().values().iterator().next();
            }
        }
        int[] s = a.shape();
        if (s.length != 2) throw new BadFileException(src, "representations must be a matrix (N, D), found " + a.describe());
        if (s[0] < 1 || s[1] < 1) throw new BadFileException(src, "representations " + a.describe() + " are empty: need at least one row and one column");
        if (a.type() != org.mkdt.io.ElementType.F32 && a.type() != org.mkdt.io.ElementType.F64) {
            throw new BadFileException(src, "representations must be float32 or float64, found " + a.type());
        }
        if (expectedCount >= 0 && s[0] != expectedCount) {
            throw new BadFileException(src, s[0] + " representations for a data set of " + expectedCount + " training images (one row per image, in the data set's order)");
        }
        requireFinite(a, src, "representations");
        return new TeacherRepresentations(a, meta);
    }

    // ---- the teacher's encoder -----------------------------------------------------------------

    /**
     * The trained teacher encoder's flat parameters, with its layout and a description of the
     * encoder (e.g. "convnet width 128, pooled"): what the evaluation needs to probe the teacher
     * itself and to measure a student's KD error on images nobody trained on.
     */
    public static void writeTeacherEncoder(Path file, NdArray theta, ParamLayout layout, Map<String, double[]> buffers, String encoder, Map<String, String> stamp)
            throws IOException {
        if (theta.shape().length != 1 || theta.shape()[0] != layout.size()) {
            throw new IllegalArgumentException("encoder parameters must be (" + layout.size() + "), got " + theta.describe());
        }
        Map<String, String> m = metadata(Kind.TEACHER_ENCODER, stamp);
        m.put("layout", layoutJson(layout.entries()));
        m.put("encoder", encoder);
        Map<String, NdArray> tensors = new LinkedHashMap<>();
        tensors.put("theta", theta);
        for (Map.Entry<String, double[]> b : buffers.entrySet()) tensors.put("buffer." + b.getKey(), NdArray.of(b.getValue(), b.getValue().length));
        SafeTensors.write(file, tensors, m);
    }

    /** The buffers saved with a teacher encoder (batch-norm running statistics), by name. */
    public static Map<String, double[]> readTeacherBuffers(Path file) {
        SafeTensors.Contents c = contents(file, Kind.TEACHER_ENCODER);
        Map<String, double[]> out = new java.util.TreeMap<>();
        for (Map.Entry<String, NdArray> e : c.tensors().entrySet()) {
            if (!e.getKey().startsWith("buffer.")) continue;
            requireFinite(e.getValue(), file.toString(), e.getKey());
            out.put(e.getKey().substring("buffer.".length()), e.getValue().toDoubles());
        }
        return out;
    }

    /** Reads the teacher's encoder parameters and checks they fit {@code expected}. */
    public static NdArray readTeacherEncoder(Path file, ParamLayout expected) {
        String src = file.toString();
        SafeTensors.Contents c = contents(file, Kind.TEACHER_ENCODER);
        NdArray theta = tensor(c, "theta", src);
        if (!parseLayout(c.metadata().get("layout"), src).equals(expected.entries())) {
            throw new BadFileException(src, "encoder was saved for a different teacher network (parameter layout differs from the configuration's "
                    + "teacher; encoder: " + c.metadata().get("encoder") + ")");
        }
        if (theta.shape().length != 1 || theta.shape()[0] != expected.size()) throw new BadFileException(src, "theta " + theta.describe() + " does not match its layout of " + expected.size());
        requireFinite(theta, src, "theta");
        return theta;
    }

    // ---- expert trajectories ------------------------------------------------------------------

    public static void writeTrajectory(Path file, NdArray snapshots, ParamLayout layout, Map<String, String> stamp) throws IOException {
        int[] s = snapshots.shape();
        if (s.length != 2 || s[1] != layout.size()) {
            throw new IllegalArgumentException("snapshots must be (S, " + layout.size() + "), got " + snapshots.describe());
        }
        Map<String, String> m = metadata(Kind.EXPERT_TRAJECTORY, stamp);
        m.put("layout", layoutJson(layout.entries()));
        SafeTensors.write(file, Map.of("snapshots", snapshots), m);
    }

    /** Reads a trajectory and checks it was made for {@code expected} (names, shapes, offsets). */
    public static Trajectory readTrajectory(Path file, ParamLayout expected) {
        String src = file.toString();
        SafeTensors.Contents c = contents(file, Kind.EXPERT_TRAJECTORY);
        NdArray snaps = tensor(c, "snapshots", src);
        List<ParamLayout.Entry> layout = parseLayout(c.metadata().get("layout"), src);
        int p = layout.isEmpty() ? 0 : layout.get(layout.size() - 1).offset() + layout.get(layout.size() - 1).numel();
        if (snaps.shape().length != 2 || snaps.shape()[1] != p) throw new BadFileException(src, "snapshots " + snaps.describe() + " do not match a layout of " + p + " parameters");
        requireFinite(snaps, src, "snapshots");
        Trajectory t = new Trajectory(snaps, layout, c.metadata());
        if (expected != null) requireLayout(t, expected, src);
        return t;
    }

    /** Refuses a trajectory of another student than {@code expected} (names, shapes, offsets). */
    public static void requireLayout(Trajectory t, ParamLayout expected, String src) {
        if (!t.layout().equals(expected.entries())) throw new BadFileException(src, "trajectory was made for a different student (parameter layout differs)");
    }

    // ---- distilled sets ------------------------------------------------------------------------

    public static void writeDistilledSet(Path file, NdArray images, NdArray targets, double lr, Normalization norm, Map<String, String> stamp) throws IOException {
        if (images.shape().length != 4 || targets.shape().length != 2 || images.shape()[0] != targets.shape()[0]) {
            throw new IllegalArgumentException("distilled set needs images (M, C, S, S) and targets (M, D), got " + images.describe() + " and " + targets.describe());
        }
        Map<String, NdArray> t = new LinkedHashMap<>();
        t.put("images", images);
        t.put("targets", targets);
        t.put("lr", NdArray.of(new double[] {lr}, 1));
        t.put("normalization_mean", NdArray.of(norm.mean(), norm.channels()));
        t.put("normalization_std", NdArray.of(norm.std(), norm.channels()));
        SafeTensors.write(file, t, metadata(Kind.DISTILLED_SET, stamp));
    }

    /** Reads a distilled set; NaN or Inf anywhere, or a learned lr that is not positive, is an error. */
    public static DistilledSet readDistilledSet(Path file) {
        String src = file.toString();
        SafeTensors.Contents c = contents(file, Kind.DISTILLED_SET);
        NdArray images = tensor(c, "images", src), targets = tensor(c, "targets", src), lr = tensor(c, "lr", src);
        NdArray mean = tensor(c, "normalization_mean", src), std = tensor(c, "normalization_std", src);
        for (Map.Entry<String, NdArray> e : c.tensors().entrySet()) requireFinite(e.getValue(), src, e.getKey());
        if (images.shape().length != 4 || targets.shape().length != 2 || images.shape()[0] != targets.shape()[0]) {
            throw new BadFileException(src, "images " + images.describe() + " and targets " + targets.describe() + " do not pair up (M, C, S, S) with (M, D)");
        }
        if (lr.numel() != 1 || !(lr.toDoubles()[0] > 0)) throw new BadFileException(src, "learned lr must be one positive number, found " + java.util.Arrays.toString(lr.toDoubles()));
        if (mean.numel() != images.shape()[1] || std.numel() != images.shape()[1]) {
            throw new BadFileException(src, "normalisation has " + mean.numel() + " channels, images have " + images.shape()[1]);
        }
        Normalization norm;
        try {
            norm = new Normalization(mean.toDoubles(), std.toDoubles());
        } catch (IllegalArgumentException e) {
            throw new BadFileException(src, e.getMessage());
        }
        return new DistilledSet(images, targets, lr.toDoubles()[0], norm, c.metadata());
    }

    // ---- distillation checkpoints ----------------------------------------------------------------

    public static void writeCheckpoint(Path file, Checkpoint c, Map<String, String> stamp) throws IOException {
        Map<String, NdArray> t = new LinkedHashMap<>();
        t.put("images", c.images());
        t.put("targets", c.targets());
        t.put("v_images", c.vImages());
        t.put("v_targets", c.vTargets());
        t.put("alpha", NdArray.of(new double[] {c.alpha(), c.vAlpha()}, 2));
        t.put("iteration", NdArray.of(new long[] {c.iteration()}, 1));
        t.put("losses", NdArray.of(c.losses(), c.losses().length));
        Map<String, String> m = new LinkedHashMap<>(c.metadata()); // the caller's keys (e.g. "segments"), then ours
        m.putAll(metadata(Kind.DISTILL_CHECKPOINT, stamp));
        SafeTensors.write(file, t, m);
    }

    /** Reads a checkpoint; shapes that do not pair up, non-finite values or a non-positive lr are errors naming the file. */
    public static Checkpoint readCheckpoint(Path file) {
        String src = file.toString();
        SafeTensors.Contents c = contents(file, Kind.DISTILL_CHECKPOINT);
        NdArray images = tensor(c, "images", src), targets = tensor(c, "targets", src);
        NdArray vImages = tensor(c, "v_images", src), vTargets = tensor(c, "v_targets", src);
        NdArray alpha = tensor(c, "alpha", src), iteration = tensor(c, "iteration", src), losses = tensor(c, "losses", src);
        for (Map.Entry<String, NdArray> e : c.tensors().entrySet()) requireFinite(e.getValue(), src, e.getKey());
        if (images.shape().length != 4 || targets.shape().length != 2 || images.shape()[0] != targets.shape()[0]
                || !java.util.Arrays.equals(images.shape(), vImages.shape()) || !java.util.Arrays.equals(targets.shape(), vTargets.shape())) {
            throw new BadFileException(src, "images " + images.describe() + ", targets " + targets.describe() + " and their momentum buffers do not pair up");
        }
        double[] a = alpha.toDoubles();
        if (a.length != 2 || !(a[0] > 0)) throw new BadFileException(src, "alpha must hold the positive learned lr and its momentum, found " + java.util.Arrays.toString(a));
        double[] it = iteration.toDoubles();
        if (it.length != 1 || it[0] < 0 || it[0] != Math.rint(it[0]) || it[0] != losses.numel()) {
            throw new BadFileException(src, "iteration " + java.util.Arrays.toString(it) + " does not match " + losses.numel() + " recorded losses");
        }
        return new Checkpoint(images, targets, vImages, vTargets, a[0], a[1], (int) it[0], losses.toDoubles(), c.metadata());
    }

    // ---- shared ---------------------------------------------------------------------------------

    /** The kind a safetensors file declares, or null for a file that is not one of ours. */
    public static Kind kindOf(SafeTensors.Contents c) {
        return Kind.of(c.metadata().getOrDefault("format", ""));
    }

    private static SafeTensors.Contents contents(Path file, Kind kind) {
        SafeTensors.Contents c = SafeTensors.read(file);
        String format = c.metadata().get("format");
        if (!kind.format().equals(format)) {
            throw new BadFileException(file.toString(), "is not a " + kind.format() + " artefact (format: " + (format == null ? "none" : format) + ")");
        }
        String v = c.metadata().get("format_version");
        if (!FORMAT_VERSION.equals(v)) throw new BadFileException(file.toString(), "artefact format version " + v + ", this build reads " + FORMAT_VERSION);
        return c;
    }

    private static NdArray tensor(SafeTensors.Contents c, String name, String src) {
        NdArray a = c.tensors().get(name);
        if (a == null) throw new BadFileException(src, "missing tensor '" + name + "'");
        return a;
    }

    private static void requireFinite(NdArray a, String src, String what) {
        int i = a.firstNonFinite();
        if (i >= 0) throw new BadFileException(src, what + " holds a NaN or infinite value at flat index " + i + " (" + a.toDoubles()[i] + ")");
    }

    public static String layoutJson(List<ParamLayout.Entry> entries) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ParamLayout.Entry e : entries) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", e.name());
            m.put("shape", e.shape().dims());
            m.put("offset", e.offset());
            out.add(m);
        }
        try {
            return JSON.writeValueAsString(out);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<ParamLayout.Entry> parseLayout(String json, String src) {
        if (json == null) throw new BadFileException(src, "metadata has no 'layout'");
        try {
            List<ParamLayout.Entry> out = new ArrayList<>();
            int expectedOffset = 0;
            for (com.fasterxml.jackson.databind.JsonNode n : JSON.readTree(json)) {
                int[] shape = JSON.treeToValue(n.get("shape"), int[].class);
                ParamLayout.Entry e = new ParamLayout.Entry(n.get("name").asText(), org.mkdt.tensor.Shape.of(shape), n.get("offset").asInt());
                if (e.offset() != expectedOffset) throw new BadFileException(src, "layout entry '" + e.name() + "' at offset " + e.offset() + ", expected " + expectedOffset);
                expectedOffset += e.numel();
                out.add(e);
            }
            return out;
        } catch (JsonProcessingException e) {
            throw new BadFileException(src, "malformed 'layout' metadata: " + e.getOriginalMessage());
        } catch (RuntimeException e) {
            if (e instanceof BadFileException b) throw b;
            throw new BadFileException(src, "malformed 'layout' metadata: " + e.getMessage());
        }
    }
}
