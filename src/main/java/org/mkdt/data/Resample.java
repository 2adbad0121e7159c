package org.mkdt.data;

/**
 * A downstream data set made to fit the student's input: channels converted (grey to RGB by
 * copying the plane; RGB to grey by ITU-R BT.601 luma, 0.299 R + 0.587 G + 0.114 B) and images
 * resampled to size x size with a triangle (bilinear) filter whose support widens with the
 * downscaling factor, so a reduction averages every source pixel it covers instead of picking
 * one (nearest-neighbour would alias fine texture into noise), as PIL's BILINEAR does.
 * Fashion-MNIST-style 28x28 images going into a 32x32 student are padded instead (as the data
 * set's own loader does), when that is all they need.
 */
public final class Resample {
    private Resample() {}

    /** {@code d} with both splits converted, and its normalisation computed from the converted training images. */
    public static Dataset forStudent(Dataset d, int channels, int size) {
        ImageSet train = convert(d.train(), channels, size), test = convert(d.test(), channels, size);
        if (train == d.train() && test == d.test()) return d;
        return new Dataset(d.name(), train, test, Normalization.of(train));
    }

    /** The images with {@code channels} channels (1 or 3) at size x size; the same object where nothing changes. */
    public static ImageSet convert(ImageSet s, int channels, int size) {
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("resample: the student takes 1 or 3 channels, not " + channels);
        if (s.channels() != 1 && s.channels() != 3) throw new IllegalArgumentException(s.source() + ": " + s.channels() + " channels; only grey and RGB convert");
        ImageSet c = channels(s, channels);
        if (c.height() == size && c.width() == size) return c;
        int dh = size - c.height(), dw = size - c.width();
        if (dh == dw && dh > 0 && dh % 2 == 0 && dh <= 8) return c.padded(dh / 2); // 28 -> 32: the loaders' own convention
        return resize(c, size, size);
    }

    static ImageSet channels(ImageSet s, int channels) {
        if (s.channels() == channels) return s;
        int plane = s.height() * s.width(), n = s.count();
        byte[] in = s.pixels(), out = new byte[n * channels * plane];
        for (int i = 0; i < n; i++) {
            if (channels == 3) {
                for (int k = 0; k < 3; k++) System.arraycopy(in, i * plane, out, (i * 3 + k) * plane, plane);
            } else {
                for (int p = 0; p < plane; p++) {
                    double y = 0.299 * (in[(i * 3) * plane + p] & 0xff) + 0.587 * (in[(i * 3 + 1) * plane + p] & 0xff) + 0.114 * (in[(i * 3 + 2) * plane + p] & 0xff);
                    out[i * plane + p] = (byte) Math.min(255, (int) Math.round(y));
                }
            }
        }
        return new ImageSet(s.source(), out, n, channels, s.height(), s.width(), s.labels(), s.classes());
    }

    /** Every plane resampled to h x w, separably: rows, then columns. */
    static ImageSet resize(ImageSet s, int h, int w) {
        Taps[] wx = weights(s.width(), w), wy = weights(s.height(), h);
        int planes = s.count() * s.channels(), sh = s.height(), sw = s.width();
        byte[] in = s.pixels(), out = new byte[planes * h * w];
        double[] tmp = new double[sh * w];
        for (int p = 0; p < planes; p++) {
            int base = p * sh * sw;
            for (int y = 0; y < sh; y++) {
                for (int x = 0; x < w; x++) {
                    double v = 0;
                    Taps t = wx[x];
                    for (int j = 0; j < t.weights().length; j++) v += t.weights()[j] * (in[base + y * sw + t.first() + j] & 0xff);
                    tmp[y * w + x] = v;
                }
            }
            for (int y = 0; y < h; y++) {
                Taps t = wy[y];
                for (int x = 0; x < w; x++) {
                    double v = 0;
                    for (int j = 0; j < t.weights().length; j++) v += t.weights()[j] * tmp[(t.first() + j) * w + x];
                    out[p * h * w + y * w + x] = (byte) Math.max(0, Math.min(255, (int) Math.round(v)));
                }
            }
        }
        return new ImageSet(s.source(), out, s.count(), s.channels(), h, w, s.labels(), s.classes());
    }

    /** One output pixel's filter: the weights of source pixels first, first + 1, ... (they sum to 1). */
    record Taps(int first, double[] weights) {}

    /**
     * For each output index, the triangle filter centred on the output pixel's centre in source
     * coordinates, its half-width 1 source pixel when enlarging and `scale` when reducing,
     * normalised to sum to 1, edges clamped.
     */
    static Taps[] weights(int in, int out) {
        double scale = (double) in / out, support = Math.max(1.0, scale);
        Taps[] taps = new Taps[out];
        for (int o = 0; o < out; o++) {
            double centre = (o + 0.5) * scale;
            int lo = Math.max(0, (int) Math.floor(centre - support)), hi = Math.min(in - 1, (int) Math.ceil(centre + support));
            double[] k = new double[hi - lo + 1];
            double sum = 0;
            for (int i = lo; i <= hi; i++) {
                k[i - lo] = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / support));
                sum += k[i - lo];
            }
            for (int j = 0; j < k.length; j++) k[j] /= sum;
            taps[o] = new Taps(lo, k);
        }
        return taps;
    }
}
