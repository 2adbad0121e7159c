package org.mkdt.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.mkdt.backend.Backend;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * An n-dimensional array as the file formats hold it: an element type, a shape (C order) and
 * the raw little-endian bytes. Conversions to Java arrays and tensors check the type.
 */
public final class NdArray {
    private final ElementType type;
    private final int[] shape;
    private final ByteBuffer data;

    /** @param data exactly numel(shape) * type.size() bytes; read as little-endian */
    public NdArray(ElementType type, int[] shape, ByteBuffer data) {
        long n = numel(shape);
        if (n * type.size() != data.remaining()) {
            throw new IllegalArgumentException("array of shape " + Arrays.toString(shape) + " and type " + type
                    + " needs " + n * type.size() + " bytes, got " + data.remaining());
        }
        this.type = type;
        this.shape = shape.clone();
        this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    public static NdArray of(float[] v, int... shape) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return new NdArray(ElementType.F32, shape, b);
    }

    public static NdArray of(double[] v, int... shape) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(v);
        return new NdArray(ElementType.F64, shape, b);
    }

    public static NdArray of(long[] v, int... shape) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(v);
        return new NdArray(ElementType.I64, shape, b);
    }

    public static NdArray of(int[] v, int... shape) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(v);
        return new NdArray(ElementType.I32, shape, b);
    }

    public static NdArray ofBytes(byte[] v, int... shape) {
        return new NdArray(ElementType.U8, shape, ByteBuffer.wrap(v.clone()));
    }

    /** A float32 or float64 tensor's contents. */
    public static NdArray of(Tensor t) {
        int[] dims = t.shape().dims();
        return t.dtype() == DType.F32 ? of(t.toFloatArray(), dims) : of(t.toDoubleArray(), dims);
    }

    public ElementType type() {
        return type;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int numel() {
        return (int) numel(shape);
    }

    /** The raw little-endian bytes (a read-only view). */
    public ByteBuffer data() {
        return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Every element as a double (exact for all types but large int64 values). */
    public double[] toDoubles() {
        int n = numel();
        double[] out = new double[n];
        ByteBuffer b = data();
        for (int i = 0; i < n; i++) {
            out[i] = switch (type) {
                case F32 -> b.getFloat(4 * i);
                case F64 -> b.getDouble(8 * i);
                case I64 -> b.getLong(8 * i);
                case I32 -> b.getInt(4 * i);
                case U8 -> b.get(i) & 0xff;
            };
        }
        return out;
    }

    public float[] toFloats() {
        if (type == ElementType.F32) {
            float[] out = new float[numel()];
            data().asFloatBuffer().get(out);
            return out;
        }
        double[] d = toDoubles();
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) out[i] = (float) d[i];
        return out;
    }

    /** Integer elements (int32, int64 within int range, uint8) as ints. */
    public int[] toInts(String source) {
        if (type == ElementType.F32 || type == ElementType.F64) {
            throw new BadFileException(source, "expected integer elements, found " + type);
        }
        int n = numel();
        int[] out = new int[n];
        ByteBuffer b = data();
        for (int i = 0; i < n; i++) {
            long v = switch (type) {
                case I64 -> b.getLong(8 * i);
                case I32 -> b.getInt(4 * i);
                default -> b.get(i) & 0xff;
            };
            if (v != (int) v) throw new BadFileException(source, "integer element " + i + " = " + v + " does not fit in 32 bits");
            out[i] = (int) v;
        }
        return out;
    }

    /** A tensor of the given dtype holding these values (float types only). */
    public Tensor toTensor(Backend backend, DType dtype, String source) {
        if (type != ElementType.F32 && type != ElementType.F64) {
            throw new BadFileException(source, "expected float32 or float64 elements, found " + type);
        }
        Shape s = Shape.of(shape);
        return dtype == DType.F32 && type == ElementType.F32 ? Tensor.of(backend, s, toFloats()) : Tensor.of(backend, dtype, s, toDoubles());
    }

    /** Index of the first NaN or infinite element, or -1 (float types; -1 for integers). */
    public int firstNonFinite() {
        if (type != ElementType.F32 && type != ElementType.F64) return -1;
        double[] v = toDoubles();
        for (int i = 0; i < v.length; i++) if (!Double.isFinite(v[i])) return i;
        return -1;
    }

    /** "F32 (2, 3)": the type and the shape, written like {@link Shape#toString()}. */
    public String describe() {
        StringBuilder b = new StringBuilder(type.toString()).append(" (");
        for (int i = 0; i < shape.length; i++) b.append(i > 0 ? ", " : "").append(shape[i]);
        return b.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /**
     * Checks a shape read from a file: non-negative, and at most {@link Shape#MAX_ELEMENTS}
     * elements counting zero extents as one (so no tensor made from it can overflow either).
     */
    static void checkShape(int[] dims, String source, String what) {
        long count = 1;
        for (int d : dims) {
            if (d < 0) throw new BadFileException(source, what + "negative dimension " + d + " in shape " + Arrays.toString(dims));
            count *= Math.max(d, 1);
            if (count > Shape.MAX_ELEMENTS) throw new BadFileException(source, what + "shape " + Arrays.toString(dims) + " has more than " + Shape.MAX_ELEMENTS + " elements");
        }
    }
}
