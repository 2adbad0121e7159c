package org.mkdt.data;

import org.apache.commons.rng.UniformRandomProvider;

/**
 * The SSL augmentations of the Barlow Twins teacher, on one image (C, H, W) with values in
 * [0, 1], before normalisation: random resized crop (area 8-100% by default, the lower bound a
 * parameter, aspect 3/4-4/3, bilinear back
 * to H x W), horizontal flip (p 0.5), and for RGB images colour jitter (p 0.8: brightness 0.4,
 * contrast 0.4, saturation 0.2, hue 0.1, applied in a random order) and grayscale (p 0.2), the
 * torchvision recipe of the Barlow Twins paper; for grey images the part of the jitter that
 * means something on one channel (p 0.8: brightness 0.4 and contrast 0.4, in a random order). Every draw comes from the generator passed in.
 */
public final class Augment {
    private Augment() {}

    /** torchvision's lower bound on the crop's area fraction. */
    public static final double DEFAULT_CROP_MIN = 0.08;

    /** A fresh augmented view of img (C, H, W), values in [0, 1], crops of cropMin-100% of the area (cropMin in (0, 1]). */
    public static float[] view(float[] img, int c, int h, int w, double cropMin, UniformRandomProvider rng) {
        float[] out = randomResizedCrop(img, c, h, w, cropMin, rng);
        if (rng.nextDouble() < 0.5) flip(out, c, h, w);
        if (c == 3) {
            if (rng.nextDouble() < 0.8) colourJitter(out, h * w, 0.4, 0.4, 0.2, 0.1, rng);
            if (rng.nextDouble() < 0.2) grayscale(out, h * w);
        } else if (c == 1) {
            if (rng.nextDouble() < 0.8) greyJitter(out, 0.4, 0.4, rng);
        }
        return out;
    }

    /**
     * The part of colour jitter that a grey image has: brightness and contrast (factors drawn
     * as torchvision does, applied in a random order; contrast blends with the image's mean).
     * Saturation and hue are no-ops on grey, and grayscale is the identity.
     */
    static void greyJitter(float[] img, double brightness, double contrast, UniformRandomProvider rng) {
        boolean brightnessFirst = rng.nextBoolean();
        double fb = 1 - brightness + 2 * brightness * rng.nextDouble();
        double fc = 1 - contrast + 2 * contrast * rng.nextDouble();
        for (int op = 0; op < 2; op++) {
            if ((op == 0) == brightnessFirst) {
                blend(img, null, fb, 0.0);
            } else {
                double mean = 0;
                for (float v : img) mean += v;
                blend(img, null, fc, mean / img.length);
            }
        }
    }

    /** torchvision's RandomResizedCrop(scale=(cropMin, 1), ratio=(3/4, 4/3)) to the same size. */
    static float[] randomResizedCrop(float[] img, int c, int h, int w, double cropMin, UniformRandomProvider rng) {
        if (!(cropMin > 0) || cropMin > 1) throw new IllegalArgumentException("crop area fraction must be in (0, 1], got " + cropMin);
        double area = (double) h * w;
        int ch = h, cw = w, top = 0, left = 0;
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (cropMin + (1 - cropMin) * rng.nextDouble());
            double logRatio = Math.log(3.0 / 4.0) + (Math.log(4.0 / 3.0) - Math.log(3.0 / 4.0)) * rng.nextDouble();
            double ratio = Math.exp(logRatio);
            int tw = (int) Math.round(Math.sqrt(target * ratio)), th = (int) Math.round(Math.sqrt(target / ratio));
            if (tw > 0 && tw <= w && th > 0 && th <= h) {
                cw = tw;
                ch = th;
                top = rng.nextInt(h - th + 1);
                left = rng.nextInt(w - tw + 1);
                break;
            }
        }
        return resizeBilinear(img, c, h, w, top, left, ch, cw);
    }

    /** Crop (top, left, ch, cw) of img resized to h x w, bilinear with half-pixel centres. */
    static float[] resizeBilinear(float[] img, int c, int h, int w, int top, int left, int ch, int cw) {
        float[] out = new float[c * h * w];
        double sy = (double) ch / h, sx = (double) cw / w;
        for (int y = 0; y < h; y++) {
            double fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), ch - 1);
            int y0 = (int) fy, y1 = Math.min(y0 + 1, ch - 1);
            double wy = fy - y0;
            for (int x = 0; x < w; x++) {
                double fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), cw - 1);
                int x0 = (int) fx, x1 = Math.min(x0 + 1, cw - 1);
                double wx = fx - x0;
                for (int k = 0; k < c; k++) {
                    int base = k * h * w;
                    double a = img[base + (top + y0) * w + left + x0], b = img[base + (top + y0) * w + left + x1];
                    double d = img[base + (top + y1) * w + left + x0], e = img[base + (top + y1) * w + left + x1];
                    out[base + y * w + x] = (float) ((1 - wy) * ((1 - wx) * a + wx * b) + wy * ((1 - wx) * d + wx * e));
                }
            }
        }
        return out;
    }

    static void flip(float[] img, int c, int h, int w) {
        for (int k = 0; k < c; k++) {
            for (int y = 0; y < h; y++) {
                int row = (k * h + y) * w;
                for (int x = 0; x < w / 2; x++) {
                    float t = img[row + x];
                    img[row + x] = img[row + w - 1 - x];
                    img[row + w - 1 - x] = t;
                }
            }
        }
    }

    /** ITU-R 601 luma into all three channels, as torchvision's Grayscale(3). */
    static void grayscale(float[] img, int plane) {
        for (int i = 0; i < plane; i++) {
            float g = luma(img, plane, i);
            img[i] = g;
            img[plane + i] = g;
            img[2 * plane + i] = g;
        }
    }

    private static float luma(float[] img, int plane, int i) {
        return (float) (0.299 * img[i] + 0.587 * img[plane + i] + 0.114 * img[2 * plane + i]);
    }

    /** Brightness, contrast, saturation and hue factors drawn as torchvision does, applied in a random order. */
    static void colourJitter(float[] img, int plane, double brightness, double contrast, double saturation, double hue, UniformRandomProvider rng) {
        int[] order = {0, 1, 2, 3};
        for (int i = 3; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double fb = 1 - brightness + 2 * brightness * rng.nextDouble();
        double fc = 1 - contrast + 2 * contrast * rng.nextDouble();
        double fs = 1 - saturation + 2 * saturation * rng.nextDouble();
        double fh = -hue + 2 * hue * rng.nextDouble();
        for (int op : order) {
            switch (op) {
                case 0 -> blend(img, null, fb, 0.0);
                case 1 -> {
                    double mean = 0;
                    for (int i = 0; i < plane; i++) mean += luma(img, plane, i);
                    blend(img, null, fc, mean / plane);
                }
                case 2 -> {
                    float[] grey = img.clone();
                    grayscale(grey, plane);
                    blend(img, grey, fs, 0.0);
                }
                default -> shiftHue(img, plane, fh);
            }
        }
    }

    /** img = clamp(f * img + (1 - f) * other), other = the grey image or a constant. */
    private static void blend(float[] img, float[] other, double f, double constant) {
        for (int i = 0; i < img.length; i++) {
            double o = other == null ? constant : other[i];
            img[i] = (float) Math.min(1.0, Math.max(0.0, f * img[i] + (1 - f) * o));
        }
    }

    /** Rotates the hue by {@code shift} turns (RGB -> HSV -> RGB). */
    static void shiftHue(float[] img, int plane, double shift) {
        for (int i = 0; i < plane; i++) {
            double r = img[i], g = img[plane + i], b = img[2 * plane + i];
            double max = Math.max(r, Math.max(g, b)), min = Math.min(r, Math.min(g, b)), d = max - min;
            if (d == 0) continue; // grey: no hue to rotate
            double hh;
            if (max == r) hh = ((g - b) / d) / 6.0;
            else if (max == g) hh = ((b - r) / d + 2) / 6.0;
            else hh = ((r - g) / d + 4) / 6.0;
            hh = hh + shift;
            hh -= Math.floor(hh);
            double s = d / max, v = max;
            double hp = hh * 6;
            int sector = (int) Math.floor(hp) % 6;
            double f = hp - Math.floor(hp);
            double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
            double[] rgb = switch (sector) {
                case 0 -> new double[] {v, t, p};
                case 1 -> new double[] {q, v, p};
                case 2 -> new double[] {p, v, t};
                case 3 -> new double[] {p, q, v};
                case 4 -> new double[] {t, p, v};
                default -> new double[] {v, p, q};
            };
            img[i] = (float) rgb[0];
            img[plane + i] = (float) rgb[1];
            img[2 * plane + i] = (float) rgb[2];
        }
    }
}
