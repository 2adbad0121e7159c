package org.mkdt.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.mkdt.autograd.Graph;
import org.mkdt.backend.UnaryOp;
import org.mkdt.cli.CheckCommand;
import org.mkdt.ops.Elementwise;
import org.mkdt.tensor.Tensor;

/** Every op of the catalog, first and second order, in float64 against finite differences. */
class GradCheckTest {

    static Stream<OpCase> ops() {
        return OpCatalog.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void firstAndSecondOrderMatchFiniteDifferences(OpCase op) {
        OpCase.Result r = op.check(7);
        assertTrue(r.firstOrderError() <= CheckCommand.TOLERANCE, op.name() + ": first-order error " + r.firstOrderError());
        assertTrue(r.secondOrderError() <= CheckCommand.TOLERANCE, op.name() + ": second-order error " + r.secondOrderError());
    }

    @Test
    void catalogCoversEveryOpFamily() {
        List<String> names = OpCatalog.all().stream().map(OpCase::name).toList();
        for (String required : List.of("conv2d", "conv2dDataGrad", "conv2dWeightGrad", "matmul", "instanceNorm", "relu",
                "avgPool2", "gather", "scatterAdd", "mse", "crossEntropy", "sum (axes 0, 2)", "slice", "student ConvNet (theta, x)")) {
            assertTrue(names.contains(required), "catalog lacks " + required);
        }
    }

    /** exp with a backward rule that is off by 1% (as a typo in a derivative would be). */
    private static Tensor wrongExp(Tensor x) {
        Tensor out = Tensor.zeros(x.backend(), x.dtype(), x.shape());
        x.backend().unary(UnaryOp.EXP, x, out);
        return Graph.record("wrongExp", out, (g, needs) -> new Tensor[] {Elementwise.scale(Elementwise.mul(g, out), 1.01)}, x);
    }

    /** exp whose backward is right in value but treats exp(x) as a constant: wrong second derivative. */
    private static Tensor detachedExp(Tensor x) {
        Tensor out = Tensor.zeros(x.backend(), x.dtype(), x.shape());
        x.backend().unary(UnaryOp.EXP, x, out);
        return Graph.record("detachedExp", out, (g, needs) -> new Tensor[] {Elementwise.mul(g, out.detach())}, x);
    }

    @Test
    void checkerRejectsAWrongFirstDerivative() {
        OpCase bad = new OpCase("wrongExp", List.of(OpCase.in(3, 7)), x -> wrongExp(x.get(0)));
        OpCase.Result r = bad.check(7);
        assertTrue(r.firstOrderError() > 100 * CheckCommand.TOLERANCE, "wrong rule passed: " + r.firstOrderError());
    }

    @Test
    void checkerRejectsAWrongSecondDerivativeThatHasARightFirst() {
        OpCase bad = new OpCase("detachedExp", List.of(OpCase.in(3, 7)), x -> detachedExp(x.get(0)));
        OpCase.Result r = bad.check(7);
        assertTrue(r.firstOrderError() <= CheckCommand.TOLERANCE, "first order should be right: " + r.firstOrderError());
        assertTrue(r.secondOrderError() > 100 * CheckCommand.TOLERANCE, "wrong second derivative passed: " + r.secondOrderError());
    }

    @Test
    void relativeErrorIsScaleFree() {
        double e = GradCheck.relativeError(List.of(new double[] {1e6, 2e6}), List.of(new double[] {1e6, 2e6 + 2}));
        assertEquals(1e-6, e, 1e-12);
    }
}
