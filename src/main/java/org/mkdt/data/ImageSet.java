package org.mkdt.data;

import java.util.List;
import org.mkdt.backend.Backend;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * Images as 8-bit pixels in (N, C, H, W) order with integer labels in [0, classes).
 *
 * @param source  where they came from (for messages)
 * @param pixels  N*C*H*W unsigned bytes
 * @param labels  one per image
 * @param classes class names, index = label
 */
public record ImageSet(String source, byte[] pixels, int count, int channels, int height, int width, int[] labels, List<String> classes) {

    public ImageSet {
        if (count < 0 || channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException(source + ": bad image geometry " + count + "x" + channels + "x" + height + "x" + width);
        }
        if ((long) count * channels * height * width != pixels.length) {
            throw new IllegalArgumentException(source + ": " + pixels.length + " pixel bytes for " + count + " images of " + channels + "x" + height + "x" + width);
        }
        if (labels.length != count) throw new IllegalArgumentException(source + ": " + labels.length + " labels for " + count + " images");
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes.size()) {
                throw new org.mkdt.io.BadFileException(source, "label " + labels[i] + " of image " + i + " is out of range for " + classes.size() + " classes");
            }
        }
        classes = List.copyOf(classes);
    }

    public int imageSize() {
        return channels * height * width;
    }

    public Shape shape() {
        return Shape.of(count, channels, height, width);
    }

    /** Images per class. */
    public int[] classCounts() {
        int[] c = new int[classes.size()];
        for (int l : labels) c[l]++;
        return c;
    }

    /** The same images with a border of {@code pad} zero pixels (Fashion-MNIST 28 -> 32). */
    public ImageSet padded(int pad) {
        int h = height + 2 * pad, w = width + 2 * pad;
        byte[] out = new byte[count * channels * h * w];
        for (int p = 0; p < count * channels; p++) {
            for (int y = 0; y < height; y++) {
                System.arraycopy(pixels, (p * height + y) * width, out, (p * h + y + pad) * w + pad, width);
            }
        }
        return new ImageSet(source, out, count, channels, h, w, labels, classes);
    }

    /** The images at {@code idx}, in that order. */
    public ImageSet subset(int[] idx) {
        int s = imageSize();
        byte[] out = new byte[idx.length * s];
        int[] lab = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            System.arraycopy(pixels, idx[i] * s, out, i * s, s);
            lab[i] = labels[idx[i]];
        }
        return new ImageSet(source, out, idx.length, channels, height, width, lab, classes);
    }

    /** float32 tensor (N, C, H, W) of (pixel / 255 - mean[c]) / std[c]. */
    public Tensor toTensor(Backend backend, Normalization norm) {
        if (norm.channels() != channels) {
            throw new IllegalArgumentException(source + ": normalisation has " + norm.channels() + " channels, images have " + channels);
        }
        float[] v = new float[pixels.length];
        int plane = height * width;
        for (int i = 0; i < v.length; i++) {
            int c = (i / plane) % channels;
            v[i] = (float) (((pixels[i] & 0xff) / 255.0 - norm.mean()[c]) / norm.std()[c]);
        }
        return Tensor.of(backend, shape(), v);
    }
}
