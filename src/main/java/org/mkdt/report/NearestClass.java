package org.mkdt.report;

import java.util.ArrayList;
import java.util.List;
import org.mkdt.data.ImageSet;
import org.mkdt.data.Normalization;
import org.mkdt.io.NdArray;

/**
 * What a distilled image looks like to a reader who knows the classes: the class of the real
 * training image nearest to it (squared distance in normalised pixel space). A caption for the
 * pictures, not an evaluation (MKDT's images carry no labels).
 */
public final class NearestClass {
    private NearestClass() {}

    /** "#i nearest: CLASS (image j)" for each image of {@code images} (M, C, S, S); empty captions when the shapes differ. */
    public static List<String> captions(NdArray images, ImageSet train, Normalization norm) {
        int[] s = images.shape();
        List<String> out = new ArrayList<>();
        int c = train.channels(), size = train.imageSize(), plane = train.height() * train.width();
        if (s.length != 4 || s[1] != c || s[2] != train.height() || s[3] != train.width()) {
            for (int i = 0; i < s[0]; i++) out.add("#" + i);
            return out;
        }
        float[] v = images.toFloats();
        byte[] px = train.pixels();
        double[] mean = norm.mean(), std = norm.std();
        float[] real = new float[size];
        double[] best = new double[s[0]];
        int[] arg = new int[s[0]];
        java.util.Arrays.fill(best, Double.POSITIVE_INFINITY);
        for (int j = 0; j < train.count(); j++) {
            for (int k = 0; k < size; k++) real[k] = (float) (((px[j * size + k] & 0xff) / 255.0 - mean[k / plane]) / std[k / plane]);
            for (int i = 0; i < s[0]; i++) {
                double d = 0;
                for (int k = 0; k < size && d < best[i]; k++) {
                    double e = v[i * size + k] - real[k];
                    d += e * e;
                }
                if (d < best[i]) {
                    best[i] = d;
                    arg[i] = j;
                }
            }
        }
        for (int i = 0; i < s[0]; i++) out.add("#" + i + " nearest: " + train.classes().get(train.labels()[arg[i]]) + " (image " + arg[i] + ")");
        return out;
    }
}
