package org.mkdt.config;

/**
 * Everything a run needs, typed. Made by {@link ConfigLoader} from a preset, an optional JSON or
 * YAML file and command-line overrides, strictly: an unknown key or a value of the wrong type is
 * an error naming it. Field names are the keys.
 */
public record RunConfig(String name, long seed, String device, Data data, Teacher teacher, Experts experts, Init init, Distill distill) {

    /**
     * The data set: a name (fashion-mnist, cifar10, ...) or a folder; dataDir for named sets
     * other than fashion-mnist; limit > 0 keeps only the first limit training images (CPU demos).
     */
    public record Data(String dataset, String dataDir, int limit) {
        public Data {
            Check.nonNegative("data.limit", limit);
        }
    }

    /**
     * Stage 1: encoder "convnet" (of {@code width} channels) or "resnet18"; representation
     * "pooled" (global average of the last feature map, the paper's) or "flat" (the flattened
     * map, ConvNet only); the lr ramps up linearly over warmupEpochs; cropMin is the smallest
     * area fraction of the random resized crop (torchvision's 0.08; larger keeps more of a small
     * image's layout); importFile takes representations made elsewhere instead of training.
     */
    public record Teacher(String encoder, int width, String representation, int epochs, int warmupEpochs, int batch, double lr, double momentum,
                          double weightDecay, int projectorDim, double lambda, double cropMin, String importFile) {
        public Teacher {
            Check.oneOf("teacher.encoder", encoder, "convnet", "resnet18");
            Check.positive("teacher.width", width);
            Check.oneOf("teacher.representation", representation, "pooled", "flat");
            if (encoder.equals("resnet18") && representation.equals("flat")) {
                throw new ConfigException("teacher.representation", "resnet18's representation is its pooled 512-d feature; 'flat' is for convnet");
            }
            Check.nonNegative("teacher.warmupEpochs", warmupEpochs);
            Check.positive("teacher.epochs", epochs);
            Check.atLeast("teacher.batch", batch, 2);
            Check.positive("teacher.lr", lr);
            Check.unitInterval("teacher.momentum", momentum);
            Check.nonNegative("teacher.weightDecay", weightDecay);
            Check.positive("teacher.projectorDim", projectorDim);
            Check.nonNegative("teacher.lambda", lambda);
            if (!(cropMin > 0) || cropMin > 1) throw new ConfigException("teacher.cropMin", "must be in (0, 1], got " + cropMin);
        }
    }

    /**
     * Stage 2: how many experts and how each is trained; head is the student's: "linear" (the
     * paper's: a linear layer from the flattened conv map to the teacher's D) or "none" (the map
     * is the output, for a flat teacher map of the student's shape: D = 2048 at 32x32).
     */
    public record Experts(int count, int epochs, int batch, double lr, double momentum, double weightDecay, String head) {
        public Experts {
            Check.oneOf("experts.head", head, "linear", "none");
            Check.positive("experts.count", count);
            Check.positive("experts.epochs", epochs);
            Check.positive("experts.batch", batch);
            Check.positive("experts.lr", lr);
            Check.unitInterval("experts.momentum", momentum);
            Check.nonNegative("experts.weightDecay", weightDecay);
        }
    }

    /** Stage 3: "high-loss" or "random", and the synthetic set's size as a fraction of the training set. */
    public record Init(String method, double fraction) {
        public Init {
            Check.oneOf("init.method", method, "high-loss", "random");
            if (!(fraction > 0) || fraction > 1) throw new ConfigException("init.fraction", "must be in (0, 1], got " + fraction);
        }
    }

    /** Stage 4: trajectory matching (the paper's hyperparameters per data set, in the presets). */
    public record Distill(int iterations, int synSteps, int expertEpochs, int maxStartEpoch, int batchSyn,
                          double lrImg, double lrY, double lrLr, double alphaInit, int checkpointEvery) {
        public Distill {
            Check.positive("distill.iterations", iterations);
            Check.positive("distill.synSteps", synSteps);
            Check.positive("distill.expertEpochs", expertEpochs);
            Check.positive("distill.maxStartEpoch", maxStartEpoch);
            Check.positive("distill.batchSyn", batchSyn);
            Check.positive("distill.lrImg", lrImg);
            Check.positive("distill.lrY", lrY);
            Check.positive("distill.lrLr", lrLr);
            Check.positive("distill.alphaInit", alphaInit);
            Check.positive("distill.checkpointEvery", checkpointEvery);
        }
    }

    public RunConfig {
        // Not starting with '.': "." and ".." would put the run's files in or above runs/ itself.
        if (name == null || !name.matches("[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")) {
            throw new ConfigException("name", "must be 1-64 letters, digits, '.', '_' or '-', not starting with '.', got '" + name + "'");
        }
        Check.oneOf("device", device, "cpu", "cuda", "auto");
        if (data == null || teacher == null || experts == null || init == null || distill == null) {
            throw new ConfigException("(root)", "every section (data, teacher, experts, init, distill) must be present");
        }
        if (data.dataset() == null || data.dataset().isBlank()) throw new ConfigException("data.dataset", "must name a data set or a folder");
        if (distill.maxStartEpoch() + distill.expertEpochs() > experts.epochs()) {
            throw new ConfigException("distill.maxStartEpoch", "maxStartEpoch + expertEpochs (" + (distill.maxStartEpoch() + distill.expertEpochs())
                    + ") exceeds the experts' " + experts.epochs() + " epochs");
        }
    }

    /** Range checks with messages naming the key. */
    static final class Check {
        private Check() {}

        static void positive(String key, double v) {
            if (!(v > 0) || !Double.isFinite(v)) throw new ConfigException(key, "must be positive, got " + v);
        }

        static void atLeast(String key, int v, int min) {
            if (v < min) throw new ConfigException(key, "must be at least " + min + ", got " + v);
        }

        static void nonNegative(String key, double v) {
            if (!(v >= 0) || !Double.isFinite(v)) throw new ConfigException(key, "must be non-negative, got " + v);
        }

        static void unitInterval(String key, double v) {
            if (!(v >= 0 && v < 1)) throw new ConfigException(key, "must be in [0, 1), got " + v);
        }

        static void oneOf(String key, String v, String... allowed) {
            for (String a : allowed) if (a.equals(v)) return;
            throw new ConfigException(key, "must be one of " + String.join(", ", allowed) + ", got " + v);
        }
    }
}
