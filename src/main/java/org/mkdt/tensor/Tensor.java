package org.mkdt.tensor;

import org.mkdt.autograd.Node;
import org.mkdt.backend.Backend;

/**
 * A dense, contiguous, row-major array on one backend, optionally a node of the autodiff graph.
 * Views (reshape, slice) share storage with an element offset. Tensors are immutable once made
 * by an op; only leaves created by the user are written to, through the backend.
 */
public final class Tensor {
    private final Shape shape;
    private final Storage storage;
    private final int offset;
    private boolean requiresGrad;
    private Node node;

    public Tensor(Shape shape, Storage storage, int offset) {
        if (offset < 0 || (long) offset + shape.numel() > storage.numel()) {
            throw new IllegalArgumentException("view of shape " + shape + " at offset " + offset
                    + " does not fit a storage of " + storage.numel() + " elements");
        }
        this.shape = shape;
        this.storage = storage;
        this.offset = offset;
    }

    // ---- construction -------------------------------------------------------------------

    public static Tensor zeros(Backend backend, DType dtype, Shape shape) {
        return new Tensor(shape, backend.allocate(dtype, shape.numel()), 0);
    }

    /**
     * A tensor with unspecified contents, for the output of a primitive that writes every
     * element (Backend#allocateUninitialised); anything else must use {@link #zeros}.
     */
    public static Tensor empty(Backend backend, DType dtype, Shape shape) {
        return new Tensor(shape, backend.allocateUninitialised(dtype, shape.numel()), 0);
    }

    public static Tensor zeros(Backend backend, DType dtype, int... dims) {
        return zeros(backend, dtype, Shape.of(dims));
    }

    /** A tensor holding {@code data} (row-major), converted to {@code dtype}. */
    public static Tensor of(Backend backend, DType dtype, Shape shape, double[] data) {
        checkLength(shape, data.length);
        Tensor t = zeros(backend, dtype, shape);
        backend.upload(t, data);
        return t;
    }

    public static Tensor of(Backend backend, Shape shape, float[] data) {
        checkLength(shape, data.length);
        Tensor t = zeros(backend, DType.F32, shape);
        backend.upload(t, data);
        return t;
    }

    public static Tensor scalar(Backend backend, DType dtype, double value) {
        return of(backend, dtype, Shape.of(), new double[] {value});
    }

    private static void checkLength(Shape shape, int length) {
        if (length != shape.numel()) {
            throw new IllegalArgumentException("data of length " + length + " does not fill shape " + shape
                    + " (" + shape.numel() + " elements)");
        }
    }

    // ---- accessors ----------------------------------------------------------------------

    public Shape shape() {
        return shape;
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Storage storage() {
        return storage;
    }

    public int offset() {
        return offset;
    }

    public int numel() {
        return shape.numel();
    }

    public Backend backend() {
        return storage.backend();
    }

    public double[] toDoubleArray() {
        return backend().downloadDoubles(this);
    }

    public float[] toFloatArray() {
        return backend().downloadFloats(this);
    }

    /** The single value of a one-element tensor. */
    public double item() {
        if (numel() != 1) throw new IllegalArgumentException("item() needs one element, shape is " + shape);
        return toDoubleArray()[0];
    }

    // ---- autodiff ------------------------------------------------------------------------

    public boolean requiresGrad() {
        return requiresGrad;
    }

    public Node node() {
        return node;
    }

    /** Marks a leaf as an input that gradients are taken with respect to; returns this. */
    public Tensor requireGrad() {
        if (node != null) throw new IllegalStateException("requireGrad() is for leaves; this tensor was made by " + node.name());
        requiresGrad = true;
        return this;
    }

    /** Called by {@link org.mkdt.autograd.Graph} when an op records this tensor as its output. */
    public void attach(Node creator) {
        this.node = creator;
        this.requiresGrad = true;
    }

    /** The same data, cut from the graph (a constant). */
    public Tensor detach() {
        return new Tensor(shape, storage, offset);
    }

    /** A view of {@code shape} at element {@code offset} of this tensor's data, outside the graph. */
    public Tensor view(Shape viewShape, int elementOffset) {
        return new Tensor(viewShape, storage, offset + elementOffset);
    }

    @Override
    public String toString() {
        return "Tensor(" + dtype() + ", " + shape + (node != null ? ", " + node.name() : requiresGrad ? ", leaf" : "") + ")";
    }
}
