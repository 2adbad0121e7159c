package org.mkdt.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import org.mkdt.tensor.Tensor;

/**
 * Sum and max over the axes where {@code out} has extent 1. The input's dimensions are merged
 * into alternating kept / reduced runs; each output element (or, when the innermost run is
 * kept, each row of outputs) is produced by one thread in a fixed order, in double precision.
 */
final class ReduceKernel {
    enum Kind { SUM, MAX }

    private ReduceKernel() {}

    static void reduce(Kind kind, Tensor x, Tensor out) {
        int[] xd = x.shape().dims(), od = out.shape().dims();
        // Merge into runs: size and whether reduced.
        List<int[]> runs = new ArrayList<>();
        for (int i = 0; i < xd.length; i++) {
            if (xd[i] == 1) continue;
            int red = od[i] == 1 ? 1 : 0;
            if (!runs.isEmpty() && runs.get(runs.size() - 1)[1] == red) runs.get(runs.size() - 1)[0] *= xd[i];
            else runs.add(new int[] {xd[i], red});
        }
        Buf xb = Buf.of(x), ob = Buf.of(out);
        if (runs.isEmpty()) { // a single element
            ob.set(0, xb.get(0));
            return;
        }
        int r = runs.size();
        int[] size = new int[r], stride = new int[r];
        boolean[] red = new boolean[r];
        int acc = 1;
        for (int i = r - 1; i >= 0; i--) {
            size[i] = runs.get(i)[0];
            red[i] = runs.get(i)[1] == 1;
            stride[i] = acc;
            acc *= size[i];
        }
        boolean innerKept = !red[r - 1];
        int inner = size[r - 1];
        // Output units: rows of `inner` outputs when the innermost run is kept, single outputs otherwise.
        int outNumel = out.numel();
        int units = innerKept ? outNumel / inner : outNumel;
        int redCount = x.numel() / outNumel;
        int perUnitWork = innerKept ? redCount * inner : redCount;
        float[] sumF32 = kind == Kind.SUM ? xb.f : null;
        Parallel.forRange(units, Parallel.grain(units, perUnitWork, 1 << 15), (lo, hi) -> {
            double[] rowAcc = innerKept ? new double[inner] : null;
            int[] ctr = new int[r];
            for (int u = lo; u < hi; u++) {
                // Base offset of this unit from the kept runs (excluding the innermost when it is the unit's row).
                int base = 0, rem = u;
                for (int i = (innerKept ? r - 2 : r - 1); i >= 0; i--) {
                    if (red[i]) continue;
                    base += (rem % size[i]) * stride[i];
                    rem /= size[i];
                }
                // Walk the reduced runs (excluding the innermost when it is the contiguous reduced run).
                int lastWalk = innerKept ? r - 2 : r - 2;
                java.util.Arrays.fill(ctr, 0);
                double s = kind == Kind.SUM ? 0.0 : Double.NEGATIVE_INFINITY;
                if (innerKept) java.util.Arrays.fill(rowAcc, s);
                int off = 0;
                while (true) {
                    int p = base + off;
                    if (sumF32 != null) { // the common case without the dtype and kind branches per element
                        int q = xb.off + p;
                        if (innerKept) for (int j = 0; j < inner; j++) rowAcc[j] += sumF32[q + j];
                        else for (int j = 0; j < inner; j++) s += sumF32[q + j];
                    } else if (innerKept) {
                        for (int j = 0; j < inner; j++) {
                            double v = xb.get(p + j);
                            rowAcc[j] = kind == Kind.SUM ? rowAcc[j] + v : Math.max(rowAcc[j], v);
                        }
                    } else {
                        for (int j = 0; j < inner; j++) {
                            double v = xb.get(p + j);
                            s = kind == Kind.SUM ? s + v : Math.max(s, v);
                        }
                    }
                    // advance the odometer over reduced runs 0..lastWalk
                    int i = lastWalk;
                    while (i >= 0) {
                        if (red[i]) {
                            if (++ctr[i] < size[i]) {
                                off += stride[i];
                                break;
                            }
                            off -= (size[i] - 1) * stride[i];
                            ctr[i] = 0;
                        }
                        i--;
                    }
                    if (i < 0) break;
                }
                if (innerKept) {
                    for (int j = 0; j < inner; j++) ob.set(u * inner + j, rowAcc[j]);
                } else {
                    ob.set(u, s);
                }
            }
        });
    }
}
