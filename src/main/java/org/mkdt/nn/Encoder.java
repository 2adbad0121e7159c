package org.mkdt.nn;

import org.mkdt.backend.Backend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** A network mapping images to representation vectors, as a pure function of flat parameters. */
public interface Encoder {
    ParamLayout layout();

    /** Length of the representation. */
    int featureDim();

    /** Representations (B, featureDim) of images (B, C, H, W); training selects batch-norm statistics where there are any. */
    Tensor features(Tensor theta, Tensor images, boolean training);

    /**
     * State that is not a parameter but decides the features (batch norm's running statistics),
     * by name; empty for encoders without any. Saved beside the parameters with the teacher.
     */
    default java.util.Map<String, double[]> buffers() {
        return java.util.Map.of();
    }

    /** Restores what {@link #buffers()} returned; a name it does not know is an error. */
    default void loadBuffers(java.util.Map<String, double[]> saved) {
        if (!saved.isEmpty()) throw new IllegalArgumentException("this encoder has no buffers, got " + saved.keySet());
    }

    /** Seeded PyTorch-default initial parameters. */
    default Tensor initialParams(Backend backend, DType dtype, long seed) {
        return Tensor.of(backend, dtype, Shape.of(layout().size()), layout().pytorchDefaultInit(seed));
    }
}
