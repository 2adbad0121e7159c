package org.mkdt.nn;

import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.backend.Backend;
import org.mkdt.ops.AvgPool2;
import org.mkdt.ops.Conv2d;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Gemm;
import org.mkdt.ops.InstanceNorm;
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
public final class ConvNet {
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

    public ParamLayout layout() {
        return layout;
    }

    public int numParams() {
        return layout.size();
    }

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
        if (!x.shape().equals(inputShape(x.shape().dim(0)))) {
            throw new IllegalArgumentException("ConvNet: input shape " + x.shape() + " does not match expected " + inputShape(x.shape().dim(0)));
        }
        Tensor h = x;
        for (int i = 0; i < depth; i++) {
            String p = block(i);
            h = Conv2d.conv2d(h, layout.view(theta, p + ".conv.w"), layout.view(theta, p + ".conv.b"));
            h = InstanceNorm.instanceNorm(h, layout.view(theta, p + ".norm.gamma"), layout.view(theta, p + ".norm.beta"), InstanceNorm.EPS);
            h = Elementwise.relu(h);
            h = AvgPool2.avgPool2(h);
        }
        return Shaping.flatten(h);
    }

    /** Output (B, outDim) for images x (B, C, S, S). */
    public Tensor forward(Tensor theta, Tensor x) {
        return Gemm.linear(features(theta, x), layout.view(theta, "head.w"), layout.view(theta, "head.b"));
    }

    /**
     * PyTorch's default initialisation, seeded: conv and linear weights kaiming-uniform with
     * a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)); biases U(-1/sqrt(fan_in), 1/sqrt(fan_in));
     * norm gamma 1, beta 0. Parameters are drawn in layout order from one generator.
     */
    public double[] initialParams(long seed) {
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        double[] theta = new double[layout.size()];
        for (ParamLayout.Entry e : layout.entries()) {
            String n = e.name();
            double fill;
            if (n.endsWith(".gamma")) {
                fill = 1.0;
            } else if (n.endsWith(".beta")) {
                fill = 0.0;
            } else {
                double bound = 1.0 / Math.sqrt(fanIn(n));
                for (int i = 0; i < e.numel(); i++) theta[e.offset() + i] = (2.0 * rng.nextDouble() - 1.0) * bound;
                continue;
            }
            java.util.Arrays.fill(theta, e.offset(), e.offset() + e.numel(), fill);
        }
        return theta;
    }

    public Tensor initialParams(Backend backend, DType dtype, long seed) {
        return Tensor.of(backend, dtype, Shape.of(layout.size()), initialParams(seed));
    }

    /** fan_in of the weight a parameter belongs to (a bias uses its layer's weight fan_in). */
    private int fanIn(String name) {
        String weight = name.endsWith(".b") ? name.substring(0, name.length() - 2) + ".w" : name;
        Shape s = layout.entry(weight).shape();
        return s.numel() / s.dim(0);
    }
}
