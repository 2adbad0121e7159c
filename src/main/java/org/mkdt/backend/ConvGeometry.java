package org.mkdt.backend;

/**
 * Stride and zero padding of a 2-D convolution (the same on both axes); the kernel size comes
 * from the weight's shape. Output extent: (in + 2 padding - kernel) / stride + 1.
 */
public record ConvGeometry(int stride, int padding) {
    /** The MKDT student's convolutions: 3x3 kernels, stride 1, padding 1 (output size = input size). */
    public static final ConvGeometry SAME_3X3 = new ConvGeometry(1, 1);

    public ConvGeometry {
        if (stride < 1) throw new IllegalArgumentException("convolution stride must be positive, got " + stride);
        if (padding < 0) throw new IllegalArgumentException("convolution padding must be non-negative, got " + padding);
    }

    /** Output extent for an input extent and kernel extent; not positive when the kernel does not fit. */
    public int out(int in, int kernel) {
        return Math.floorDiv(in + 2 * padding - kernel, stride) + 1;
    }

    public boolean isSame3x3(int kh, int kw) {
        return kh == 3 && kw == 3 && stride == 1 && padding == 1;
    }
}
