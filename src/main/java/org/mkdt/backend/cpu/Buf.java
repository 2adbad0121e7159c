package org.mkdt.backend.cpu;

import org.mkdt.tensor.Tensor;

/**
 * A tensor's data seen as doubles, whatever its dtype: the dtype-generic CPU kernels are written
 * once against get/set, and float32 values are widened on read (arithmetic in double, rounded
 * once on write). The branch on the dtype is loop-invariant, so the JIT keeps it cheap.
 */
final class Buf {
    final float[] f;
    final double[] d;
    final int off;

    private Buf(float[] f, double[] d, int off) {
        this.f = f;
        this.d = d;
        this.off = off;
    }

    static Buf of(Tensor t) {
        CpuStorage s = (CpuStorage) t.storage();
        return switch (t.dtype()) {
            case F32 -> new Buf(s.floats(), null, t.offset());
            case F64 -> new Buf(null, s.doubles(), t.offset());
        };
    }

    /** v rounded to this buffer's precision (what set() then get() would give). */
    double round(double v) {
        return f != null ? (float) v : v;
    }

    double get(int i) {
        return f != null ? f[off + i] : d[off + i];
    }

    void set(int i, double v) {
        if (f != null) f[off + i] = (float) v;
        else d[off + i] = v;
    }

    void add(int i, double v) {
        if (f != null) f[off + i] += (float) v;
        else d[off + i] += v;
    }
}
