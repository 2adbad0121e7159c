package org.mkdt.check;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.mkdt.backend.Backend;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Reduce;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/**
 * One op under gradient check: its inputs' shapes and domains, and the op itself. The scalar
 * checked is f = sum(r1 * y) + 0.5 * sum(r2 * y * y) for y = op(inputs) and fixed random r1, r2:
 * the square makes even a linear op's second derivative non-zero, so the second-order check
 * exercises the op's backward-of-backward and not only its first derivative.
 */
public record OpCase(String name, List<Input> inputs, Function<List<Tensor>, Tensor> op) {

    /** Where an input's random values are drawn from. */
    public enum Domain {
        /** U(-1, 1). */
        ANY,
        /** U(0.5, 1.5): for log, rsqrt, denominators. */
        POSITIVE,
        /** +-U(0.2, 1): keeps ReLU kinks farther than the finite-difference step. */
        AWAY_FROM_ZERO
    }

    public record Input(Shape shape, Domain domain) {}

    /** Both errors for this case at a seed. */
    public record Result(String name, String shapes, int coordinates, double firstOrderError, double secondOrderError) {}

    public static Input in(Domain d, int... dims) {
        return new Input(Shape.of(dims), d);
    }

    public static Input in(int... dims) {
        return new Input(Shape.of(dims), Domain.ANY);
    }

    public Result check(long seed) {
        try (Scope s = Scope.open()) {
            List<Tensor> x = sampleInputs(seed);
            GradCheck.ScalarFunction f = scalarTest(seed + 1);
            double e1 = GradCheck.firstOrder(f, x);
            double e2 = GradCheck.secondOrder(f, x, seed + 2);
            int coords = 0;
            StringBuilder shapes = new StringBuilder();
            for (Input i : inputs) {
                coords += i.shape().numel();
                if (shapes.length() > 0) shapes.append(' ');
                shapes.append(i.shape());
            }
            return new Result(name, shapes.toString(), coords, e1, e2);
        }
    }

    /** The scalar f(inputs) described above. */
    public GradCheck.ScalarFunction scalarTest(long seed) {
        return xs -> {
            Tensor y = op.apply(xs);
            UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
            Tensor r1 = random(rng, y.shape(), Domain.ANY, y.backend(), y.dtype());
            Tensor r2 = random(rng, y.shape(), Domain.ANY, y.backend(), y.dtype());
            Tensor linear = Reduce.sumAll(Elementwise.mul(r1, y));
            Tensor quadratic = Reduce.sumAll(Elementwise.mul(r2, Elementwise.mul(y, y)));
            return Elementwise.add(linear, Elementwise.scale(quadratic, 0.5));
        };
    }

    public List<Tensor> sampleInputs(long seed) {
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        List<Tensor> out = new ArrayList<>();
        for (Input i : inputs) out.add(random(rng, i.shape(), i.domain(), CpuBackend.INSTANCE, DType.F64));
        return out;
    }

    private static Tensor random(UniformRandomProvider rng, Shape shape, Domain d, Backend backend, DType dtype) {
        double[] v = new double[shape.numel()];
        for (int i = 0; i < v.length; i++) {
            double u = rng.nextDouble();
            v[i] = switch (d) {
                case ANY -> 2 * u - 1;
                case POSITIVE -> 0.5 + u;
                case AWAY_FROM_ZERO -> (rng.nextBoolean() ? 1 : -1) * (0.2 + 0.8 * u);
            };
        }
        return Tensor.of(backend, dtype, shape, v);
    }
}
