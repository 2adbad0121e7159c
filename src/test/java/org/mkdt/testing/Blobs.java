package org.mkdt.testing;

import java.util.List;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.data.ImageSet;

/** Small seeded image sets for tests. */
public final class Blobs {
    private Blobs() {}

    /** Grey 32x32 images: a seeded blob of random position and size on noise, so augmentations matter. */
    public static ImageSet images(int n, long seed) {
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        byte[] px = new byte[n * 32 * 32];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int cx = 8 + rng.nextInt(16), cy = 8 + rng.nextInt(16), r = 3 + rng.nextInt(6);
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    boolean in = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r;
                    px[i * 1024 + y * 32 + x] = (byte) ((in ? 180 : 20) + rng.nextInt(60));
                }
            }
            labels[i] = r > 5 ? 1 : 0;
        }
        return new ImageSet("blobs", px, n, 1, 32, 32, labels, List.of("small", "large"));
    }
}
