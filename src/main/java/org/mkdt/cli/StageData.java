package org.mkdt.cli;

import java.nio.file.Path;
import org.mkdt.backend.Backend;
import org.mkdt.config.RunConfig;
import org.mkdt.data.Dataset;
import org.mkdt.data.Datasets;
import org.mkdt.nn.ConvNet;
import org.mkdt.nn.Encoder;
import org.mkdt.nn.Pooled;
import org.mkdt.nn.ResNet;
import org.mkdt.tensor.Tensor;

/**
 * What the stage commands derive from a configuration: the data set (limited to data.limit
 * training images), its tensor, the networks; {@code full} is the data set before the limit
 * (the probe draws its labelled 1% from the whole training set).
 */
record StageData(Dataset dataset, Dataset full, Tensor images) {
    static StageData load(RunConfig c, Backend backend) {
        Dataset full = Datasets.load(c.data().dataset(), c.data().dataDir() == null ? null : Path.of(c.data().dataDir()));
        Dataset ds = full;
        int limit = c.data().limit();
        if (limit > 0 && limit < ds.train().count()) {
            ds = new Dataset(ds.name(), ds.train().subset(java.util.stream.IntStream.range(0, limit).toArray()), ds.test(), ds.normalization());
        }
        int size = ds.train().height();
        if (size != ds.train().width() || size < 8 || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException(ds.name() + ": images are " + ds.train().width() + "x" + size + "; the ConvNet student needs square images of 8, 16, 32, 64 ... pixels");
        }
        return new StageData(ds, full, ds.train().toTensor(backend, ds.normalization()));
    }

    /**
     * The run's teacher representations, checked to exist, to have one row per training image
     * and to have been made under this configuration's teacher keys.
     */
    static org.mkdt.io.NdArray teacher(org.mkdt.run.RunDir run, RunConfig c, int trainCount) {
        Path f = run.teacherFile();
        if (!java.nio.file.Files.exists(f)) throw new IllegalArgumentException(f + ": no teacher representations; run 'mkdt teacher' first");
        org.mkdt.data.Artefacts.TeacherRepresentations t = org.mkdt.data.Artefacts.readTeacher(f, trainCount);
        org.mkdt.run.Provenance.require(f.toString(), t.metadata(), c, org.mkdt.run.Provenance.Stage.TEACHER, "run 'mkdt teacher' again");
        return t.representations();
    }

    /** The run's initial set, checked to exist and to have been made under this configuration's keys. */
    static org.mkdt.data.Artefacts.DistilledSet initialSet(org.mkdt.run.RunDir run, RunConfig c) {
        Path f = run.initFile();
        if (!java.nio.file.Files.exists(f)) throw new IllegalArgumentException(f + ": no initial set; run 'mkdt init' first");
        org.mkdt.data.Artefacts.DistilledSet init = org.mkdt.data.Artefacts.readDistilledSet(f);
        org.mkdt.run.Provenance.require(f.toString(), init.metadata(), c, org.mkdt.run.Provenance.Stage.INIT, "run 'mkdt init' again");
        return init;
    }

    int size() {
        return dataset.train().height();
    }

    int channels() {
        return dataset.train().channels();
    }

    /** ConvNet depth for the image size: 3 for 32x32 and 4 for 64x64 (the paper's), 4x4 maps before the head. */
    int depth() {
        return Integer.numberOfTrailingZeros(size()) - 2;
    }

    /** The student for the configuration's experts.head: ConvNet of this depth, width 128, head to D (or none, D its map). */
    ConvNet student(RunConfig.Experts e, int outDim) {
        return student(e, channels(), size(), outDim);
    }

    /**
     * The student for images of {@code channels} x size x size: depth 3 at 32x32, 4 at 64x64, width
     * 128; with a linear head to D, or none, where D must then be the student's own map size.
     */
    static ConvNet student(RunConfig.Experts e, int channels, int size, int outDim) {
        int depth = Integer.numberOfTrailingZeros(size) - 2;
        if (e.head().equals("linear")) return new ConvNet(channels, size, 128, depth, outDim);
        ConvNet net = ConvNet.withoutHead(channels, size, 128, depth);
        if (net.outDim() != outDim) {
            throw new org.mkdt.config.ConfigException("experts.head", "'none' makes the student's flattened conv map (" + net.outDim()
                    + " values) its output, but the teacher's representation has " + outDim + " (use a flat convnet teacher of width 128, or head 'linear')");
        }
        return net;
    }

    /** The teacher's encoder the configuration names: ResNet-18 (pooled 512-d), or a ConvNet of teacher.width, pooled or flat. */
    Encoder encoder(RunConfig.Teacher t) {
        return encoder(t, channels(), size());
    }

    static Encoder encoder(RunConfig.Teacher t, int channels, int size) {
        if (t.encoder().equals("resnet18")) return ResNet.resnet18(channels, t.width());
        ConvNet net = new ConvNet(channels, size, t.width(), Integer.numberOfTrailingZeros(size) - 2, 1);
        return t.representation().equals("pooled") ? new Pooled(net) : net;
    }
}
