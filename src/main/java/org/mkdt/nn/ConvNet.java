package org.mkdt.nn;

import org.mkdt.backend.Backend;
import org.mkdt.ops.AvgPool2;
import org.mkdt.ops.Conv2d;
import org.mkdt.ops.Gemm;
import org.mkdt.ops.InstanceNorm;
import org.mkdt.ops.ReluPool2;
import org.mkdt.ops.Shaping;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * The MKDT student: {@code depth} blocks of conv 3x3 (pad 1, bias) -> instance norm (affine)
 * -> ReLU -> avg-pool 2x2, then flatten in (C, H, W) order and a linear head to {@code outDim}.
 * A pure function of one flat parameter vector; the layout names are block{i}.conv.w / .conv.b /
 * .norm.gamma / .norm.beta and head.w / head.b, in that order (PyTorch's order for the same
 * network, so a flat vector maps onto a torch ConvNet's parameters() by reshaping).
 */
public final class ConvNet implements Encoder {
    private final int inChannels;
    private final int imageSize;
    private final int width;
    private final int depth;
    private final int outDim;
    private final ParamLayout layout;

    public ConvNet(int inChannels, int imageSize, int width, int depth, int outDim) {
        if (inChannels < 1 || width < 1 || depth < 1 || outDim < 1) {
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
        this.outDim = outDim;
        ParamLayout.Builder b = new ParamLayout.Builder();
        int c = inChannels;
        for (int i = 0; i < depth; i++) {
            b.add(block(i) + ".conv.w", width, c, 3, 3).add(block(i) + ".conv.b", width)
             .add(block(i) + ".norm.gamma", width).add(block(i) + ".norm.beta", width);
            c = width;
        }
        b.add("head.w", outDim, featureDim()).add("head.b", outDim);
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

    public int outDim() {
        return outDim;
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
        Tensor bias = params.view(theta, "head.b");
        if (students > 0) bias = Shaping.reshape(bias, Shape.of(students, 1, outDim));
        return Gemm.linear(features(theta, x, params, students), params.view(theta, "head.w"), bias);
    }

    private Tensor features(Tensor theta, Tensor x, ParamLayout params, int students) {
        Tensor h = x;
        for (int i = 0; i < depth; i++) {
            String p = block(i);
            h = Conv2d.conv2d(h, params.view(theta, p + ".conv.w"), params.view(theta, p + ".conv.b"));
            h = InstanceNorm.instanceNorm(h, params.view(theta, p + ".norm.gamma"), params.view(theta, p + ".norm.beta"), InstanceNorm.EPS);
            h = reluPool(h, students);
        }
        int b = x.shape().dim(students > 0 ? 1 : 0);
        return Shaping.reshape(h, students > 0 ? Shape.of(students, b, featureDim()) : Shape.of(b, featureDim()));
    }

    /** ReLU then 2x2 average pooling, fused; a batch's (S, B) images are pooled as S*B planes. */
    private static Tensor reluPool(Tensor h, int students) {
        if (students == 0) return ReluPool2.reluPool2(h);
        Shape s = h.shape();
        Tensor y = ReluPool2.reluPool2(Shaping.reshape(h, Shape.of(s.dim(0) * s.dim(1), s.dim(2), s.dim(3), s.dim(4))));
        return Shaping.reshape(y, Shape.of(s.dim(0), s.dim(1), s.dim(2), s.dim(3) / 2, s.dim(4) / 2));
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
