package org.mkdt.nn;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.ops.BatchNorm;
import org.mkdt.ops.Conv2d;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Reduce;
import org.mkdt.tensor.Tensor;

/**
 * The CIFAR variant of ResNet-18, the paper's teacher encoder: conv 3x3 stride 1 (no max-pool)
 * -> BN -> ReLU, four stages of BasicBlocks (3x3 conv, BN, ReLU, 3x3 conv, BN, plus the input,
 * through a 1x1 strided conv and BN where the shape changes), then global average pooling: a
 * (B, 8 * width) representation (512 for width 64). Convolutions have no bias. A pure function
 * of one flat parameter vector; batch-norm running statistics are buffers held by this object,
 * updated in training mode and used in evaluation mode, as in PyTorch.
 */
public final class ResNet implements Encoder {
    private final int inChannels;
    private final int width;
    private final List<Block> blocks = new ArrayList<>();
    private final ParamLayout layout;

    /** One BasicBlock: its parameter prefix, channels in and out, and stride (a shortcut conv when the shape changes). */
    private record Block(String name, int in, int out, int stride) {
        boolean projects() {
            return stride != 1 || in != out;
        }
    }
    private final Map<String, BatchNorm.RunningStats> running = new HashMap<>();

    /** ResNet-18: width 64, blocks (2, 2, 2, 2). */
    public static ResNet resnet18(int inChannels) {
        return resnet18(inChannels, 64);
    }

    /** ResNet-18's blocks at another width (the representation is 8 * width). */
    public static ResNet resnet18(int inChannels, int width) {
        return new ResNet(inChannels, width, new int[] {2, 2, 2, 2});
    }

    /** Every batch norm's running mean and variance: "NAME.running_mean" and "NAME.running_var", as PyTorch names them. */
    @Override
    public Map<String, double[]> buffers() {
        Map<String, double[]> out = new java.util.TreeMap<>();
        for (Map.Entry<String, BatchNorm.RunningStats> e : running.entrySet()) {
            out.put(e.getKey() + ".running_mean", e.getValue().mean());
            out.put(e.getKey() + ".running_var", e.getValue().var());
        }
        return out;
    }

    @Override
    public void loadBuffers(Map<String, double[]> saved) {
        if (!saved.keySet().equals(buffers().keySet())) throw new IllegalArgumentException("ResNet: saved buffers " + saved.keySet() + " do not match " + buffers().keySet());
        for (Map.Entry<String, BatchNorm.RunningStats> e : running.entrySet()) {
            e.getValue().set(saved.get(e.getKey() + ".running_mean"), saved.get(e.getKey() + ".running_var"));
        }
    }

    public ResNet(int inChannels, int width, int[] blocks) {
        if (inChannels < 1 || width < 1 || blocks.length != 4) {
            throw new IllegalArgumentException("ResNet: channels and width must be positive and there are 4 stages, got " + inChannels + ", " + width + ", " + blocks.length);
        }
        this.inChannels = inChannels;
        this.width = width;
        int c = width;
        for (int stage = 0; stage < 4; stage++) {
            for (int k = 0; k < blocks[stage]; k++) {
                this.blocks.add(new Block("layer" + (stage + 1) + "." + k, c, width << stage, stage > 0 && k == 0 ? 2 : 1));
                c = width << stage;
            }
        }
        ParamLayout.Builder b = new ParamLayout.Builder().add("conv1.w", width, inChannels, 3, 3);
        bn(b, "bn1", width);
        for (Block blk : this.blocks) {
            String p = blk.name();
            b.add(p + ".conv1.w", blk.out(), blk.in(), 3, 3);
            bn(b, p + ".bn1", blk.out());
            b.add(p + ".conv2.w", blk.out(), blk.out(), 3, 3);
            bn(b, p + ".bn2", blk.out());
            if (blk.projects()) {
                b.add(p + ".shortcut.w", blk.out(), blk.in(), 1, 1);
                bn(b, p + ".shortcut_bn", blk.out());
            }
        }
        layout = b.build();
    }

    private void bn(ParamLayout.Builder b, String name, int channels) {
        b.add(name + ".gamma", channels).add(name + ".beta", channels);
        running.put(name, new BatchNorm.RunningStats(channels));
    }

    @Override
    public ParamLayout layout() {
        return layout;
    }

    @Override
    public int featureDim() {
        return width << 3;
    }

    public int numParams() {
        return layout.size();
    }

    /** The running statistics of one batch norm, by layer name (e.g. "layer2.0.bn1"). */
    public BatchNorm.RunningStats runningStats(String bn) {
        BatchNorm.RunningStats s = running.get(bn);
        if (s == null) throw new IllegalArgumentException("no batch norm named '" + bn + "'");
        return s;
    }

    /** Features (B, 8 * width) of images x (B, C, H, W); training mode uses batch statistics. */
    @Override
    public Tensor features(Tensor theta, Tensor x, boolean training) {
        if (x.shape().rank() != 4 || x.shape().dim(1) != inChannels) {
            throw new IllegalArgumentException("ResNet: input " + x.shape() + " must be (B, " + inChannels + ", H, W)");
        }
        Tensor h = Elementwise.relu(norm(theta, "bn1", conv(theta, "conv1.w", x, 1), training));
        for (Block blk : blocks) {
            String p = blk.name();
            Tensor y = Elementwise.relu(norm(theta, p + ".bn1", conv(theta, p + ".conv1.w", h, blk.stride()), training));
            y = norm(theta, p + ".bn2", conv(theta, p + ".conv2.w", y, 1), training);
            Tensor shortcut = blk.projects() ? norm(theta, p + ".shortcut_bn", conv(theta, p + ".shortcut.w", h, blk.stride()), training) : h;
            h = Elementwise.relu(Elementwise.add(y, shortcut));
        }
        return Reduce.mean(h, false, 2, 3);
    }

    private Tensor conv(Tensor theta, String name, Tensor x, int stride) {
        Tensor w = layout.view(theta, name);
        int k = w.shape().dim(2);
        return Conv2d.conv2d(x, w, null, new ConvGeometry(stride, k / 2));
    }

    private Tensor norm(Tensor theta, String name, Tensor x, boolean training) {
        Tensor gamma = layout.view(theta, name + ".gamma"), beta = layout.view(theta, name + ".beta");
        return training ? BatchNorm.train(x, gamma, beta, running.get(name)) : BatchNorm.eval(x, gamma, beta, running.get(name));
    }
}
