package org.mkdt.nn;

import org.mkdt.backend.Backend;
import org.mkdt.ops.AvgPool2;
import org.mkdt.ops.Conv2d;
import org.mkdt.ops.Gemm;
import org.mkdt.ops.InstanceNorm;
import org.mkdt.ops.Reduce;
import org.mkdt.ops.ReluPool2;
import org.mkdt.ops.Shaping;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * The MKDT student: {@code depth} blocks of conv 3x3 (pad 1, bias) -> instance norm (affine)
 * -> ReLU -> avg-pool 2x2, then flatten in (C, H, W) order and a linear head to {@code outDim}
 * (the paper's student), or no head ({@link #withoutHead}: the flattened map is the output, for
 * a teacher whose representation is a map of this shape). A pure function of one flat parameter
 * vector; the layout names are block{i}.conv.w / .conv.b / .norm.gamma / .norm.beta and head.w /
 * head.b, in that order (PyTorch's order for the same network, so a flat vector maps onto a torch
 * ConvNet's parameters() by reshaping).
 */
public final class ConvNet implements Encoder {
    private final int inChannels;
    private final int imageSize;
    private final int width;
    private final int depth;
    private final int outDim;
    private final boolean head;
    private final ParamLayout layout;

    /** With a linear head to {@code outDim}. */
    public ConvNet(int inChannels, int imageSize, int width, int depth, int outDim) {
        this(inChannels, imageSize, width, depth, outDim, true);
    }

    /**
     * Without a head: the output is the flattened conv map ({@link #featureDim} values). Matched
     * to a teacher's map of the same shape, KD has to put the teacher into the conv layers, the
     * part the probe reads, instead of into a head the probe throws away.
     */
    public static ConvNet withoutHead(int inChannels, int imageSize, int width, int depth) {
        return new ConvNet(inChannels, imageSize, width, depth, 0, false);
    }

    /** outDim is ignored without a head: the output is then the {@link #featureDim} features. */
    private ConvNet(int inChannels, int imageSize, int width, int depth, int outDim, boolean head) {
        if (inChannels < 1 || width < 1 || depth < 1 || (head && outDim < 1)) {
            throw new IllegalArgumentException("ConvNet: channels, width, depth and outDim must be positive (got "
                    + inChannels + ", " + width + ", " + depth + ", " + outDim + ")");
        }
        if (imageSize < 1 || imageSize % (1 << depth) != 0) {
            throw new IllegalArgumentException("ConvNet: image size " + imageSize + " must be divisible by 2^depth = " + (1 << depth));
        }
        this.inChannels = inChannels;
        this.imageSize = imageSize;
        this.width = width;
        this.depth = depth;
        this.head = head;
        this.outDim = head ? outDim : featureDim();
        ParamLayout.Builder b = new ParamLayout.Builder();
        int c = inChannels;
        for (int i = 0; i < depth; i++) {
            b.add(block(i) + ".conv.w", width, c, 3, 3).add(block(i) + ".conv.b", width)
             .add(block(i) + ".norm.gamma", width).add(block(i) + ".norm.beta", width);
            c = width;
        }
        if (head) b.add("head.w", outDim, featureDim()).add("head.b", outDim);
        this.layout = b.build();
    }

    /** The MKDT student for 3x32x32 images and D-dimensional teacher targets: ConvNet-3, width 128. */
    public static ConvNet mkdtStudent(int inChannels, int outDim) {
        return new ConvNet(inChannels, 32, 128, 3, outDim);
    }

    private static String block(int i) {
        return "block" + i;
    }

    @Override
    public ParamLayout layout() {
        return layout;
    }

    public int numParams() {
        return layout.size();
    }

    @Override
    public int featureDim() {
        int s = imageSize >> depth;
        return width * s * s;
    }

    /** Channels of every conv block. */
    public int width() {
        return width;
    }

    public int outDim() {
        return outDim;
    }

    /** Whether a linear head maps the features to the output (false: the output is the features). */
    public boolean hasHead() {
        return head;
    }

    /** Conv blocks. */
    public int depth() {
        return depth;
    }

    public Shape inputShape(int batch) {
        return Shape.of(batch, inChannels, imageSize, imageSize);
    }

    /** Flattened conv features (B, width * (S/2^depth)^2): the representation the linear probe reads. */
    public Tensor features(Tensor theta, Tensor x) {
        checkInput(x);
        return features(theta, x, layout, 0);
    }

    private void checkInput(Tensor x) {
        if (x.shape().rank() != 4 || !x.shape().equals(inputShape(x.shape().dim(0)))) {
            throw new IllegalArgumentException("ConvNet: input shape " + x.shape() + " does not match expected " + inputShape(Math.max(0, x.shape().rank() > 0 ? x.shape().dim(0) : 0)));
        }
    }

    /** The same features; instance norm has no training mode. */
    @Override
    public Tensor features(Tensor theta, Tensor x, boolean training) {
        return features(theta, x);
    }

    /** Output (B, outDim) for images x (B, C, S, S). */
    public Tensor forward(Tensor theta, Tensor x) {
        checkInput(x);
        return forward(theta, x, layout, 0);
    }

    /**
     * The network on parameters laid out by {@code params}: plain ({@code students} 0: theta (P),
     * x (B, C, S, S)), or S students at once ({@link BatchedConvNet}: every parameter and
     * activation with a leading S). One code path, so a batch computes what S networks do.
     */
    Tensor forward(Tensor theta, Tensor x, ParamLayout params, int students) {
        if (!head) return features(theta, x, params, students);
        Tensor bias = params.view(theta, "head.b");
        if (students > 0) bias = Shaping.reshape(bias, Shape.of(students, 1, outDim));
        return Gemm.linear(features(theta, x, params, students), params.view(theta, "head.w"), bias);
    }

    private Tensor features(Tensor theta, Tensor x, ParamLayout params, int students) {
        Tensor h = x;
        int b = x.shape().dim(students > 0 ? 1 : 0);
        for (int i = 0; i < depth; i++) {
            String p = block(i);
            h = Conv2d.conv2d(h, params.view(theta, p + ".conv.w"), params.view(theta, p + ".conv.b"));
            h = normReluPool(h, params.view(theta, p + ".norm.gamma"), params.view(theta, p + ".norm.beta"), students, b);
        }
        return Shaping.reshape(h, students > 0 ? Shape.of(students, b, featureDim()) : Shape.of(b, featureDim()));
    }

    /**
     * Instance norm, its scale and shift, ReLU and 2x2 pooling: two fused ops. The normalisation
     * is one (InstanceNorm.normalize); scale, shift, ReLU and pooling are the other (ReluPool2),
     * with gamma and beta expanded to one value per (image, channel) plane, so a batch's S*B
     * images are simply S*B*C planes and each student's planes get its own gamma and beta.
     */
    private static Tensor normReluPool(Tensor h, Tensor gamma, Tensor beta, int students, int batch) {
        Shape s = h.shape();
        int lead = students > 0 ? 1 : 0;
        int images = students > 0 ? students * batch : batch, c = s.dim(lead + 1), height = s.dim(lead + 2), width = s.dim(lead + 3);
        Tensor xhat = InstanceNorm.normalize(Shaping.reshape(h, Shape.of(images, c, height, width)), InstanceNorm.EPS);
        Tensor y = ReluPool2.reluPool2(xhat, perPlane(gamma, students, batch), perPlane(beta, students, batch));
        return students > 0 ? Shaping.reshape(y, Shape.of(students, batch, c, height / 2, width / 2)) : y;
    }

    /** A per-channel parameter, (C) or (S, C) for a batch, as one value per plane: (B, C) or (S * B, C). */
    private static Tensor perPlane(Tensor v, int students, int batch) {
        int c = v.shape().dim(v.shape().rank() - 1);
        if (students == 0) return Reduce.expand(Shaping.reshape(v, Shape.of(1, c)), Shape.of(batch, c));
        Tensor e = Reduce.expand(Shaping.reshape(v, Shape.of(students, 1, c)), Shape.of(students, batch, c));
        return Shaping.reshape(e, Shape.of(students * batch, c));
    }

    /** PyTorch's default initialisation, seeded (see {@link ParamLayout#pytorchDefaultInit}). */
    public double[] initialParams(long seed) {
        return layout.pytorchDefaultInit(seed);
    }

    @Override
    public Tensor initialParams(Backend backend, DType dtype, long seed) {
        return Tensor.of(backend, dtype, Shape.of(layout.size()), initialParams(seed));
    }
}
