package org.mkdt.stages;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.mkdt.config.RunConfig;
import org.mkdt.data.Artefacts;
import org.mkdt.io.BadFileException;
import org.mkdt.io.SafeTensors;
import org.mkdt.nn.ParamLayout;
import org.mkdt.run.Provenance;

/**
 * The expert trajectories a later stage draws from, each with its file index and content hash:
 * part of that stage's identity. All {@code experts.count} must be present and made under this
 * configuration's expert keys (a partial set only when asked for, and said so), so that a
 * distillation never silently runs on whatever happens to be on disk.
 */
public record ExpertSet(List<Member> members) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Expert {@code index} (its file number and seed stream), its first snapshots (row-major, one row per epoch) and its tensors' SHA-256. */
    public record Member(int index, float[] snapshots, String sha256) {}

    /**
     * Reads experts 0..count-1 from {@code fileOf}. A missing one is an error unless
     * {@code allowPartial}; a file made under other settings, as another index, or corrupted is
     * always one, naming the file. Only the first {@code rows} snapshots of each are kept: a
     * stage reads a few epochs of each trajectory, and all of them for 100 experts would not fit.
     */
    public static ExpertSet load(IntFunction<Path> fileOf, Path dir, RunConfig c, ParamLayout layout, boolean allowPartial, int rows) {
        int count = c.experts().count();
        List<Member> members = new ArrayList<>();
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Path f = fileOf.apply(i);
            if (!Files.exists(f)) {
                missing.add(i);
                continue;
            }
            // The settings first: where they differ (experts.head, say), naming the key says more than a layout mismatch.
            Artefacts.Trajectory t = Artefacts.readTrajectory(f, null);
            Provenance.require(f.toString(), t.metadata(), c, Provenance.Stage.EXPERTS, "run 'mkdt experts' again to remake it");
            Artefacts.requireLayout(t, layout, f.toString());
            String idx = t.metadata().get(Experts.INDEX_KEY);
            if (idx != null && !idx.equals(Integer.toString(i))) throw new BadFileException(f.toString(), "holds expert " + idx + ", not expert " + i);
            if (t.snapshots().shape()[0] != c.experts().epochs() + 1) {
                throw new BadFileException(f.toString(), t.snapshots().shape()[0] + " snapshots, experts.epochs = " + c.experts().epochs() + " needs "
                        + (c.experts().epochs() + 1) + " (an unfinished or foreign expert)");
            }
            float[] first = java.util.Arrays.copyOf(t.snapshots().toFloats(), rows * layout.size());
            members.add(new Member(i, first, t.metadata().getOrDefault(SafeTensors.CHECKSUM_KEY, "")));
        }
        if (members.isEmpty()) throw new IllegalArgumentException(dir + ": no expert trajectories; run 'mkdt experts' first");
        if (!missing.isEmpty() && !allowPartial) {
            throw new IllegalArgumentException(dir + ": " + members.size() + " of experts.count = " + count + " experts present (missing " + abbreviate(missing)
                    + "); finish 'mkdt experts', or pass --experts-available to use only those present");
        }
        return new ExpertSet(List.copyOf(members));
    }

    /** The set as JSON, [{"index": i, "sha256": h}, ...]: what a checkpoint records and a resume compares. */
    public String describe() {
        ArrayNode a = JSON.createArrayNode();
        for (Member m : members) a.addObject().put("index", m.index).put("sha256", m.sha256);
        return a.toString();
    }

    public int size() {
        return members.size();
    }

    /** The file indices of the members, in order. */
    public int[] indices() {
        return members.stream().mapToInt(Member::index).toArray();
    }

    private static String abbreviate(List<Integer> v) {
        return v.size() <= 8 ? v.toString() : v.subList(0, 8) + " and " + (v.size() - 8) + " more";
    }
}
