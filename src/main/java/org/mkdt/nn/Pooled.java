package org.mkdt.nn;

import org.mkdt.ops.Reduce;
import org.mkdt.ops.Shaping;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * A ConvNet's representation globally average-pooled: the mean of each channel of its last
 * feature map, (B, width) instead of the flattened (B, width * s * s). This is the form of the
 * paper's teacher representation (ResNet-18's pooled 512-d feature); the parameters are the
 * ConvNet's own.
 */
public final class Pooled extends ConvNetView {
    public Pooled(ConvNet net) {
        super(net);
    }

    /** The ConvNet's width: one value per channel. */
    @Override
    public int featureDim() {
        return net.width();
    }

    /** features (B, width) = mean over the s x s positions of the flattened map (B, width * s * s). */
    @Override
    public Tensor features(Tensor theta, Tensor images, boolean training) {
        Tensor flat = net.features(theta, images);
        int b = flat.shape().dim(0), c = net.width();
        return Reduce.mean(Shaping.reshape(flat, Shape.of(b, c, flat.shape().dim(1) / c)), false, 2);
    }
}
