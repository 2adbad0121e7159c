package org.mkdt.check;

import java.util.ArrayList;
import java.util.List;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.autograd.Autograd;
import org.mkdt.backend.Backend;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Reduce;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Tensor;

/**
 * A device against the CPU: every op of {@link OpCatalog}, its gradient and its second-order
 * term (the gradient of &lt;v, grad f&gt;, what the meta-gradient needs), computed on a device in
 * float32 and on the CPU in float64, at the same inputs. The float64 CPU path is itself checked
 * against finite differences by {@link GradCheck}, so agreement here carries that proof over to
 * the device's kernels.
 */
public final class DeviceCheck {
    /** Largest relative error accepted: float32 rounding of these small sums is about 1e-6. */
    public static final double TOLERANCE = 1e-4;

    private DeviceCheck() {}

    /** Relative errors of the value, the gradient and the second-order term. */
    public record Result(String name, String shapes, double valueError, double firstOrderError, double secondOrderError) {
        public boolean passed() {
            return valueError <= TOLERANCE && firstOrderError <= TOLERANCE && secondOrderError <= TOLERANCE;
        }
    }

    /** f, grad f and grad &lt;v, grad f&gt; as host arrays. */
    private record Derivatives(double value, List<double[]> first, List<double[]> second) {}

    public static Result check(OpCase c, Backend device, DType dtype, long seed) {
        List<double[]> x = new ArrayList<>();
        StringBuilder shapes = new StringBuilder();
        try (Scope s = Scope.open()) {
            for (Tensor t : c.sampleInputs(seed)) {
                x.add(t.toDoubleArray());
                if (shapes.length() > 0) shapes.append(' ');
                shapes.append(t.shape());
            }
        }
        List<double[]> v = new ArrayList<>();
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed + 2);
        for (double[] a : x) {
            double[] r = new double[a.length];
            for (int i = 0; i < r.length; i++) r[i] = 2 * rng.nextDouble() - 1;
            v.add(r);
        }
        GradCheck.ScalarFunction f = c.scalarTest(seed + 1);
        Derivatives ref = derivatives(c, f, x, v, CpuBackend.INSTANCE, DType.F64);
        Derivatives got = derivatives(c, f, x, v, device, dtype);
        double scale = Math.max(Math.abs(ref.value), Math.abs(got.value));
        double valueError = scale == 0 ? 0 : Math.abs(ref.value - got.value) / scale;
        if (!Double.isFinite(got.value)) valueError = Double.POSITIVE_INFINITY;
        return new Result(c.name(), shapes.toString(), valueError, GradCheck.relativeError(got.first, ref.first),
                GradCheck.relativeError(got.second, ref.second));
    }

    private static Derivatives derivatives(OpCase c, GradCheck.ScalarFunction f, List<double[]> x, List<double[]> v, Backend b, DType dtype) {
        try (Scope s = Scope.open()) {
            List<Tensor> in = new ArrayList<>();
            for (int i = 0; i < x.size(); i++) in.add(Tensor.of(b, dtype, c.inputs().get(i).shape(), x.get(i)).requireGrad());
            Tensor y = f.apply(in);
            List<Tensor> g = Autograd.grad(y, in, true);
            Tensor h = null;
            for (int i = 0; i < g.size(); i++) {
                Tensor term = Reduce.sumAll(Elementwise.mul(g.get(i), Tensor.of(b, dtype, c.inputs().get(i).shape(), v.get(i))));
                h = h == null ? term : Elementwise.add(h, term);
            }
            List<double[]> first = new ArrayList<>(), second = new ArrayList<>();
            for (Tensor t : g) first.add(t.toDoubleArray());
            if (h.requiresGrad()) {
                for (Tensor t : Autograd.grad(h, in, false)) second.add(t.toDoubleArray());
            } else {
                for (double[] a : x) second.add(new double[a.length]);
            }
            return new Derivatives(y.item(), first, second);
        }
    }
}
