package org.mkdt.nn;

import org.mkdt.tensor.Tensor;

/**
 * A ConvNet seen as an encoder whose representation is its output, the head's (B, outDim)
 * prediction of the teacher's representation, instead of its flattened conv features: what a
 * diagnostic probe reads to see whether knowledge distillation moved the teacher's information
 * into the student at all. The parameters are the ConvNet's own.
 */
public final class HeadOutput extends ConvNetView {
    public HeadOutput(ConvNet net) {
        super(net);
    }

    @Override
    public int featureDim() {
        return net.outDim();
    }

    @Override
    public Tensor features(Tensor theta, Tensor images, boolean training) {
        return net.forward(theta, images);
    }
}
