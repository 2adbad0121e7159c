package org.mkdt.nn;

import java.util.List;
import org.mkdt.backend.Backend;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Reduce;
import org.mkdt.ops.Shaping;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * S students of one {@link ConvNet} architecture advanced together: experts trained side by
 * side, or the S trajectory segments of one distillation iteration. Every op then runs once for
 * all S (one launch per op on CUDA) instead of S times.
 *
 * <p>The parameters of all S students are one flat vector of S * P elements, laid out parameter
 * by parameter ("entry-major"): block0.conv.w of every student (S, Co, Ci, 3, 3), then
 * block0.conv.b (S, Co), and so on. Each parameter is then one contiguous (S, ...) view that a
 * batched kernel reads directly, and the SGD update of all S students is one elementwise pass
 * over the whole vector. Student s's own flat vector (ConvNet's layout) is gathered by
 * {@link #unpack} and scattered by {@link #pack}. With S = 1 the two layouts coincide and the
 * plain (unbatched) kernels run.
 */
public final class BatchedConvNet {
    private final ConvNet net;
    private final int students;
    private final ParamLayout layout;

    public BatchedConvNet(ConvNet net, int students) {
        if (students < 1) throw new IllegalArgumentException("batched students: need at least one student, got " + students);
        if ((long) students * net.numParams() > org.mkdt.tensor.Shape.MAX_ELEMENTS) {
            throw new IllegalArgumentException("batched students: " + students + " students of " + net.numParams() + " parameters exceed one tensor");
        }
        this.net = net;
        this.students = students;
        ParamLayout.Builder b = new ParamLayout.Builder();
        for (ParamLayout.Entry e : net.layout().entries()) {
            int[] d = e.shape().dims();
            int[] dims = new int[d.length + 1];
            dims[0] = students;
            System.arraycopy(d, 0, dims, 1, d.length);
            b.add(e.name(), dims);
        }
        this.layout = b.build();
    }

    public ConvNet net() {
        return net;
    }

    public int students() {
        return students;
    }

    /** Where each (S, ...) parameter lives in the packed vector. */
    public ParamLayout layout() {
        return layout;
    }

    /** Outputs (S, B, outDim) of the S students for their images x (S, B, C, H, W); theta packed (S * P). */
    public Tensor forward(Tensor theta, Tensor x) {
        Shape one = net.inputShape(1);
        if (x.shape().rank() != 5 || x.shape().dim(0) != students || x.shape().dim(2) != one.dim(1) || x.shape().dim(3) != one.dim(2) || x.shape().dim(4) != one.dim(3)) {
            throw new IllegalArgumentException("batched students: input shape " + x.shape() + " must be (" + students + ", B, "
                    + one.dim(1) + ", " + one.dim(2) + ", " + one.dim(3) + ")");
        }
        int b = x.shape().dim(1);
        if (students == 1) { // one student: the plain network and its kernels, same layout
            Tensor y = net.forward(theta, Shaping.reshape(x, net.inputShape(b)));
            return Shaping.reshape(y, Shape.of(1, b, net.outDim()));
        }
        return net.forward(theta, x, layout, students);
    }

    /** The packed vector (S * P) of S students' flat parameter vectors (each (P)), on their backend. */
    public Tensor pack(List<Tensor> thetas) {
        if (thetas.size() != students) throw new IllegalArgumentException("batched students: " + thetas.size() + " parameter vectors for " + students + " students");
        Tensor first = thetas.get(0);
        Tensor packed = Tensor.zeros(first.backend(), first.dtype(), Shape.of(layout.size()));
        for (int s = 0; s < students; s++) {
            Tensor t = thetas.get(s);
            if (t.numel() != net.numParams()) {
                throw new IllegalArgumentException("batched students: student " + s + " has " + t.numel() + " parameters, the network " + net.numParams());
            }
            for (ParamLayout.Entry e : net.layout().entries()) {
                int n = e.numel();
                first.backend().copy(t.view(Shape.of(n), e.offset()), packed.view(Shape.of(n), students * e.offset() + s * n));
            }
        }
        return packed;
    }

    /** Student s's flat parameter vector (P) from a packed one (S * P), on the host. */
    public float[] unpack(float[] packed, int s) {
        if (packed.length != layout.size()) throw new IllegalArgumentException("batched students: packed vector has " + packed.length + " elements, expected " + layout.size());
        float[] out = new float[net.numParams()];
        for (ParamLayout.Entry e : net.layout().entries()) {
            int n = e.numel();
            System.arraycopy(packed, students * e.offset() + s * n, out, e.offset(), n);
        }
        return out;
    }

    /** ||theta_s||^2 of every student, (S), differentiable: per-student sums over each (S, n) parameter view. */
    public Tensor squaredNorms(Tensor packed) {
        Tensor total = null;
        for (ParamLayout.Entry e : layout.entries()) {
            Tensor v = Shaping.reshape(layout.view(packed, e.name()), Shape.of(students, e.numel() / students));
            Tensor part = Reduce.sum(Elementwise.square(v), false, 1);
            total = total == null ? part : Elementwise.add(total, part);
        }
        return total;
    }

    /** The S students' PyTorch-default initialisations, seeded one seed per student, packed. */
    public Tensor initialParams(Backend backend, DType dtype, long[] seeds) {
        if (seeds.length != students) throw new IllegalArgumentException("batched students: " + seeds.length + " seeds for " + students + " students");
        Tensor[] each = new Tensor[students];
        for (int s = 0; s < students; s++) each[s] = net.initialParams(backend, dtype, seeds[s]);
        return pack(List.of(each));
    }
}
