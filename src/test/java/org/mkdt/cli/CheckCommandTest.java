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
        assertTrue(doc.get("batched_segments_vs_separate").get("pass").asBoolean());
        assertEquals(3, doc.get("batched_segments_vs_separate").get("segments").asInt());
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
        CliRun e = CliRun.of("bench", "experts", "--batch-students", "0");
        assertEquals("mkdt: error: --batch-students: 0 is outside 1..1024", e.err().strip());
    }

    @Test
    void benchExpertsAndSegmentedMetagradRunAtATinySize() throws Exception {
        CliRun e = CliRun.of("bench", "experts", "--batch-students", "2", "--batch", "4", "--width", "4", "--steps", "2", "--reps", "1", "--warmup", "0", "--json");
        assertEquals(0, e.code(), e.err());
        var m = new com.fasterxml.jackson.databind.ObjectMapper().readTree(e.out().strip().lines().reduce((a, b2) -> b2).orElseThrow());
        assertEquals("expert_steps", m.get("what").asText());
        assertEquals(2, m.get("batch_students").asInt());
        assertTrue(m.get("images_per_second").asDouble() > 0);
        CliRun g = CliRun.of("bench", "metagrad", "--segments", "2", "--steps", "2", "--batch", "4", "--images", "6", "--width", "4", "--json");
        assertEquals(0, g.code(), g.err());
        var r = new com.fasterxml.jackson.databind.ObjectMapper().readTree(g.out().strip().lines().reduce((a, b2) -> b2).orElseThrow());
        assertEquals(2, r.get("segments").asInt());
        assertEquals(r.get("seconds_median").asDouble() / 2, r.get("seconds_per_segment").asDouble(), 1e-12);
    }

    /**
     * On CUDA the benches count launches, and a batch of students takes one launch per op for
     * all of them: at this tiny size every convolution fits one workspace pass, so a step of
     * eight students launches exactly as many kernels as a step of two. (One student alone
     * takes the plain network's path, which has a per-student loss the fewer.)
     */
    @Test
    @org.junit.jupiter.api.Tag("cuda")
    void cudaBenchesCountLaunchesAndEightStudentsLaunchLikeTwo() throws Exception {
        org.mkdt.testing.Cuda.backendOrSkip();
        long one = cudaBench("experts", "--batch-students", "1").get("kernel_launches_per_step").asLong();
        long two = cudaBench("experts", "--batch-students", "2").get("kernel_launches_per_step").asLong();
        long eight = cudaBench("experts", "--batch-students", "8").get("kernel_launches_per_step").asLong();
        assertTrue(one > 0 && one <= two, "launches per step: " + one + " for 1 student, " + two + " for 2");
        assertEquals(two, eight, "launches per step, 2 students vs 8 at once");
        JsonNode g = cudaBench("metagrad", "--steps", "2", "--images", "6");
        assertTrue(g.get("kernel_launches_per_iteration").asLong() > 2 * one, g.toString());
    }

    private static JsonNode cudaBench(String what, String... more) throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("bench", what, "--device", "cuda", "--batch", "4", "--width", "4", "--json"));
        if (what.equals("experts")) args.addAll(java.util.List.of("--steps", "2", "--reps", "1", "--warmup", "0"));
        args.addAll(java.util.List.of(more));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return new ObjectMapper().readTree(r.out().strip().lines().reduce((a, b) -> b).orElseThrow());
    }

    @Test
    void checkVarianceRunsOnAnImageFolderAndRefusesBadArguments(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        org.mkdt.data.ImageSet blobs = org.mkdt.testing.Blobs.images(272, 5);
        for (int i = 0; i < blobs.count(); i++) {
            java.nio.file.Path cls = java.nio.file.Files.createDirectories(dir.resolve(i < 256 ? "train" : "test").resolve(blobs.classes().get(blobs.labels()[i])));
            java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(32, 32, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) img.getRaster().setSample(x, y, 0, blobs.pixels()[i * 1024 + y * 32 + x] & 0xff);
            javax.imageio.ImageIO.write(img, "png", cls.resolve(i + ".png").toFile());
        }
        CliRun r = CliRun.of("check", "variance", "--data", dir.toString(), "--images", "256", "--width", "4", "--steps", "2", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertEquals(256, doc.get("images").asInt());
        assertEquals(3, doc.get("gradient_noise").size());
        assertTrue(doc.get("gradient_noise").get(0).get("relativeVariance").asDouble() < doc.get("gradient_noise").get(1).get("relativeVariance").asDouble(), r.out());
        assertEquals(2, doc.get("trajectories").size());
        CliRun few = CliRun.of("check", "variance", "--data", dir.toString(), "--images", "1");
        assertEquals(1, few.code());
        assertTrue(few.err().strip().startsWith("mkdt: error: --images: 1 is out of range"), few.err());
        java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("f.txt"), "x");
        CliRun export = CliRun.of("check", "metagrad", "--export", file.toString());
        assertTrue(export.code() != 0 && export.err().contains("exists and is not a folder"), export.err());
    }
}
