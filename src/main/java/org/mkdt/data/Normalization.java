package org.mkdt.data;

/**
 * Per-channel mean and standard deviation of pixel values scaled to [0, 1]: images are fed to
 * the networks as (pixel / 255 - mean) / std. Reference constants for the paper's data sets;
 * computed from the training images for anything else.
 */
public record Normalization(double[] mean, double[] std) {
    /** The constants the MTT / MKDT reference code uses for CIFAR-10. */
    public static final Normalization CIFAR10 = new Normalization(new double[] {0.4914, 0.4822, 0.4465}, new double[] {0.2023, 0.1994, 0.2010});
    /**
     * The constants the MKDT reference uses for CIFAR-100 (its utils.get_dataset). Its std is
     * not CIFAR-100's per-pixel std (about 0.267, 0.256, 0.276); it is kept so that distilled sets
     * and experts are in the same input scale as the reference's.
     */
    public static final Normalization CIFAR100 = new Normalization(new double[] {0.5071, 0.4865, 0.4409}, new double[] {0.2009, 0.1984, 0.2023});
    /** ImageNet's constants, which the reference code uses for Tiny ImageNet. */
    public static final Normalization TINY_IMAGENET = new Normalization(new double[] {0.485, 0.456, 0.406}, new double[] {0.229, 0.224, 0.225});

    public Normalization {
        if (mean.length != std.length || mean.length == 0) throw new IllegalArgumentException("normalisation needs one mean and one std per channel");
        for (double s : std) if (!(s > 0) || !Double.isFinite(s)) throw new IllegalArgumentException("normalisation std must be positive and finite, got " + s);
        for (double m : mean) if (!Double.isFinite(m)) throw new IllegalArgumentException("normalisation mean must be finite, got " + m);
        mean = mean.clone();
        std = std.clone();
    }

    public int channels() {
        return mean.length;
    }

    /** Mean and (population) standard deviation per channel of a training set. */
    public static Normalization of(ImageSet train) {
        int c = train.channels(), plane = train.height() * train.width();
        double[] sum = new double[c], sq = new double[c];
        byte[] p = train.pixels();
        for (int i = 0; i < p.length; i++) {
            int ch = (i / plane) % c;
            double v = (p[i] & 0xff) / 255.0;
            sum[ch] += v;
            sq[ch] += v * v;
        }
        double n = (double) train.count() * plane;
        double[] mean = new double[c], std = new double[c];
        for (int k = 0; k < c; k++) {
            mean[k] = n == 0 ? 0 : sum[k] / n;
            std[k] = n == 0 ? 1 : Math.sqrt(Math.max(sq[k] / n - mean[k] * mean[k], 1e-12));
        }
        return new Normalization(mean, std);
    }
}
