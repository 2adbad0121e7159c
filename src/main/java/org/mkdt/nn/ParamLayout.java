package org.mkdt.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.mkdt.ops.Shaping;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * Where each named parameter lives in a model's flat parameter vector: an ordered list of
 * (name, shape, offset). Models read their weights as slices of the flat vector, so a whole
 * model state is one tensor (one expert snapshot, one SGD update, one meta-gradient).
 */
public final class ParamLayout {
    /** One parameter: elements [offset, offset + shape.numel()) of the flat vector. */
    public record Entry(String name, Shape shape, int offset) {
        public int numel() {
            return shape.numel();
        }
    }

    private final List<Entry> entries;
    private final int size;

    private ParamLayout(List<Entry> entries, int size) {
        this.entries = Collections.unmodifiableList(entries);
        this.size = size;
    }

    public List<Entry> entries() {
        return entries;
    }

    /** Total number of parameters. */
    public int size() {
        return size;
    }

    public Entry entry(String name) {
        for (Entry e : entries) if (e.name().equals(name)) return e;
        throw new IllegalArgumentException("no parameter named '" + name + "' in layout " + names());
    }

    public List<String> names() {
        List<String> n = new ArrayList<>();
        for (Entry e : entries) n.add(e.name());
        return n;
    }

    /** The named parameter as a differentiable view of {@code flat}. */
    public Tensor view(Tensor flat, String name) {
        if (flat.numel() != size) {
            throw new IllegalArgumentException("flat parameter vector has " + flat.numel() + " elements, layout needs " + size);
        }
        Entry e = entry(name);
        return Shaping.slice(flat, e.offset(), e.shape());
    }

    /**
     * PyTorch's default initialisation for every parameter, drawn in layout order from one
     * seeded generator: a weight "*.w" (and its bias "*.b") U(-1/sqrt(fan_in), 1/sqrt(fan_in))
     * with fan_in = the weight's elements per output (kaiming-uniform with a = sqrt(5) reduces to
     * this); "*.gamma" 1 and "*.beta" 0 (normalisation layers).
     */
    public double[] pytorchDefaultInit(long seed) {
        org.apache.commons.rng.UniformRandomProvider rng = org.apache.commons.rng.simple.RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        double[] theta = new double[size];
        for (Entry e : entries) {
            String n = e.name();
            if (n.endsWith(".gamma") || n.endsWith(".beta")) {
                java.util.Arrays.fill(theta, e.offset(), e.offset() + e.numel(), n.endsWith(".gamma") ? 1.0 : 0.0);
                continue;
            }
            String weight = n.endsWith(".b") ? n.substring(0, n.length() - 2) + ".w" : n;
            Shape ws = entry(weight).shape();
            double bound = 1.0 / Math.sqrt(ws.numel() / ws.dim(0));
            for (int i = 0; i < e.numel(); i++) theta[e.offset() + i] = (2.0 * rng.nextDouble() - 1.0) * bound;
        }
        return theta;
    }

    /** Builds a layout by appending parameters in order. */
    public static final class Builder {
        private final List<Entry> entries = new ArrayList<>();
        private long size;

        public Builder add(String name, int... dims) {
            Shape s = Shape.of(dims);
            entries.add(new Entry(name, s, (int) size));
            size += s.numel();
            if (size > Shape.MAX_ELEMENTS) throw new IllegalArgumentException("parameter layout exceeds " + Shape.MAX_ELEMENTS + " elements");
            return this;
        }

        public ParamLayout build() {
            return new ParamLayout(new ArrayList<>(entries), (int) size);
        }
    }
}
