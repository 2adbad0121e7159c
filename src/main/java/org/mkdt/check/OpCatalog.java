package org.mkdt.check;

import static org.mkdt.check.OpCase.in;

import java.util.List;
import org.mkdt.backend.ConvGeometry;
import org.mkdt.check.OpCase.Domain;
import org.mkdt.nn.BatchedConvNet;
import org.mkdt.nn.ConvNet;
import org.mkdt.ops.AvgPool2;
import org.mkdt.ops.BatchNorm;
import org.mkdt.ops.Conv2d;
import org.mkdt.ops.Elementwise;
import org.mkdt.ops.Gemm;
import org.mkdt.ops.InstanceNorm;
import org.mkdt.ops.Loss;
import org.mkdt.ops.ReluPool2;
import org.mkdt.ops.Reduce;
import org.mkdt.ops.Rows;
import org.mkdt.ops.Shaping;
import org.mkdt.tensor.Shape;

/**
 * Every differentiable op of the engine with inputs of awkward (non power-of-two) shapes, in
 * the order the engine builds them up; the last entry is the whole student network. Used by
 * {@code ./mkdt check gradients} and by the unit tests, so both check the same list.
 */
public final class OpCatalog {
    private OpCatalog() {}

    public static List<OpCase> all() {
        return List.of(
                new OpCase("add (broadcast)", List.of(in(2, 3, 5), in(3, 1)), x -> Elementwise.add(x.get(0), x.get(1))),
                new OpCase("sub (broadcast)", List.of(in(2, 3, 5), in(1, 5)), x -> Elementwise.sub(x.get(0), x.get(1))),
                new OpCase("mul (broadcast)", List.of(in(2, 3, 5), in(2, 1, 5)), x -> Elementwise.mul(x.get(0), x.get(1))),
                new OpCase("div (broadcast)", List.of(in(2, 3, 5), in(Domain.POSITIVE, 3, 5)), x -> Elementwise.div(x.get(0), x.get(1))),
                new OpCase("affine", List.of(in(3, 7)), x -> Elementwise.affine(x.get(0), -1.7, 0.3)),
                new OpCase("exp", List.of(in(3, 7)), x -> Elementwise.exp(x.get(0))),
                new OpCase("log", List.of(in(Domain.POSITIVE, 3, 7)), x -> Elementwise.log(x.get(0))),
                new OpCase("rsqrt", List.of(in(Domain.POSITIVE, 3, 7)), x -> Elementwise.rsqrt(x.get(0))),
                new OpCase("relu", List.of(in(Domain.AWAY_FROM_ZERO, 3, 7)), x -> Elementwise.relu(x.get(0))),
                new OpCase("sum (axes 0, 2)", List.of(in(2, 3, 5, 7)), x -> Reduce.sum(x.get(0), false, 0, 2)),
                new OpCase("mean (axes 1, 3, keepdims)", List.of(in(2, 3, 5, 7)), x -> Reduce.mean(x.get(0), true, 1, 3)),
                new OpCase("expand", List.of(in(3, 1, 5)), x -> Reduce.expand(x.get(0), Shape.of(2, 3, 4, 5))),
                new OpCase("reshape / flatten", List.of(in(2, 3, 5)), x -> Elementwise.mul(Shaping.flatten(x.get(0)), Shaping.flatten(x.get(0)))),
                new OpCase("slice", List.of(in(30)), x -> Shaping.slice(x.get(0), 7, Shape.of(3, 5))),
                new OpCase("pad", List.of(in(3, 5)), x -> Shaping.pad(x.get(0), 4, Shape.of(27))),
                new OpCase("matmul", List.of(in(5, 7), in(7, 3)), x -> Gemm.matmul(x.get(0), false, x.get(1), false)),
                new OpCase("matmul (a^T)", List.of(in(7, 5), in(7, 3)), x -> Gemm.matmul(x.get(0), true, x.get(1), false)),
                new OpCase("matmul (b^T)", List.of(in(5, 7), in(3, 7)), x -> Gemm.matmul(x.get(0), false, x.get(1), true)),
                new OpCase("matmul (a^T b^T)", List.of(in(7, 5), in(3, 7)), x -> Gemm.matmul(x.get(0), true, x.get(1), true)),
                new OpCase("matmul (batched)", List.of(in(3, 5, 7), in(3, 7, 4)), x -> Gemm.matmul(x.get(0), false, x.get(1), false)),
                new OpCase("matmul (batched, a^T b^T)", List.of(in(2, 7, 5), in(2, 4, 7)), x -> Gemm.matmul(x.get(0), true, x.get(1), true)),
                new OpCase("linear", List.of(in(5, 7), in(3, 7), in(3)), x -> Gemm.linear(x.get(0), x.get(1), x.get(2))),
                new OpCase("conv2d", List.of(in(2, 3, 5, 7), in(4, 3, 3, 3), in(4)), x -> Conv2d.conv2d(x.get(0), x.get(1), x.get(2))),
                new OpCase("conv2dDataGrad", List.of(in(2, 4, 5, 7), in(4, 3, 3, 3)), x -> Conv2d.dataGrad(x.get(0), x.get(1))),
                new OpCase("conv2dWeightGrad", List.of(in(2, 3, 5, 7), in(2, 4, 5, 7)), x -> Conv2d.weightGrad(x.get(0), x.get(1))),
                new OpCase("conv2d (stride 2)", List.of(in(2, 3, 7, 6), in(4, 3, 3, 3), in(4)),
                        x -> Conv2d.conv2d(x.get(0), x.get(1), x.get(2), new ConvGeometry(2, 1))),
                new OpCase("conv2d (1x1, stride 2)", List.of(in(2, 3, 5, 6), in(4, 3, 1, 1)),
                        x -> Conv2d.conv2d(x.get(0), x.get(1), null, new ConvGeometry(2, 0))),
                new OpCase("conv2dDataGrad (stride 2)", List.of(in(2, 4, 4, 3), in(4, 3, 3, 3)),
                        x -> Conv2d.dataGrad(x.get(0), x.get(1), new ConvGeometry(2, 1), 7, 6)),
                new OpCase("conv2dWeightGrad (stride 2)", List.of(in(2, 3, 7, 6), in(2, 4, 4, 3)),
                        x -> Conv2d.weightGrad(x.get(0), x.get(1), new ConvGeometry(2, 1), 3, 3)),
                new OpCase("conv2d (batched students)", List.of(in(2, 2, 3, 5, 7), in(2, 4, 3, 3, 3), in(2, 4)),
                        x -> Conv2d.conv2d(x.get(0), x.get(1), x.get(2))),
                new OpCase("conv2dDataGrad (batched students)", List.of(in(2, 2, 4, 5, 7), in(2, 4, 3, 3, 3)), x -> Conv2d.dataGrad(x.get(0), x.get(1))),
                new OpCase("conv2dWeightGrad (batched students)", List.of(in(2, 2, 3, 5, 7), in(2, 2, 4, 5, 7)), x -> Conv2d.weightGrad(x.get(0), x.get(1))),
                new OpCase("avgPool2", List.of(in(2, 3, 6, 10)), x -> AvgPool2.avgPool2(x.get(0))),
                new OpCase("avgPool2Grad", List.of(in(2, 3, 3, 5)), x -> AvgPool2.avgPool2Grad(x.get(0))),
                new OpCase("reluPool2 (fused)", List.of(in(Domain.AWAY_FROM_ZERO, 2, 3, 6, 10)), x -> ReluPool2.reluPool2(x.get(0))),
                new OpCase("reluPool2 (fused per-plane affine)", List.of(in(2, 3, 6, 10), in(Domain.AWAY_FROM_ZERO, 2, 3), in(2, 3)),
                        x -> ReluPool2.reluPool2(x.get(0), x.get(1), x.get(2))),
                new OpCase("gather", List.of(in(7, 5)), x -> Rows.gather(x.get(0), new int[] {3, 0, 3, 6, 2})),
                new OpCase("scatterAdd", List.of(in(5, 3)), x -> Rows.scatterAdd(x.get(0), new int[] {1, 4, 1, 0, 2}, 6)),
                new OpCase("instanceNorm", List.of(in(2, 3, 5, 7)), x -> InstanceNorm.normalize(x.get(0), InstanceNorm.EPS)),
                new OpCase("instanceNorm (affine)", List.of(in(2, 3, 5, 7), in(3), in(3)),
                        x -> InstanceNorm.instanceNorm(x.get(0), x.get(1), x.get(2), InstanceNorm.EPS)),
                new OpCase("batchNorm (train, N C H W)", List.of(in(3, 4, 3, 5), in(4), in(4)),
                        x -> BatchNorm.train(x.get(0), x.get(1), x.get(2), null)),
                new OpCase("batchNorm (train, N C)", List.of(in(6, 5), in(5), in(5)), x -> BatchNorm.train(x.get(0), x.get(1), x.get(2), null)),
                new OpCase("global average pool", List.of(in(2, 3, 5, 7)), x -> Reduce.mean(x.get(0), false, 2, 3)),
                new OpCase("mse", List.of(in(3, 7), in(3, 7)), x -> Loss.mse(x.get(0), x.get(1))),
                new OpCase("mseEach (per student)", List.of(in(3, 4, 5), in(3, 4, 5)), x -> Loss.mseEach(x.get(0), x.get(1))),
                new OpCase("barlowTwins", List.of(in(6, 5), in(6, 5)), x -> Loss.barlowTwins(x.get(0), x.get(1), 0.2)),
                new OpCase("crossEntropy", List.of(in(5, 7)), x -> Loss.crossEntropy(x.get(0), new int[] {0, 6, 3, 3, 1})),
                student(),
                batchedStudents());
    }

    /** Two smaller students (depth 2, width 3, 4x4 inputs) as one batch: the packed parameters of both and each one's images vary. */
    private static OpCase batchedStudents() {
        BatchedConvNet batch = new BatchedConvNet(new ConvNet(3, 4, 3, 2, 3), 2);
        return new OpCase("batched students (theta, x)", List.of(in(batch.layout().size()), in(2, 2, 3, 4, 4)),
                x -> batch.forward(x.get(0), x.get(1)));
    }

    /** The student (depth 2, width 5, 8x8 inputs, 3 outputs): theta and the images both vary. */
    private static OpCase student() {
        ConvNet net = new ConvNet(3, 8, 5, 2, 3);
        return new OpCase("student ConvNet (theta, x)", List.of(in(net.numParams()), in(2, 3, 8, 8)),
                x -> net.forward(x.get(0), x.get(1)));
    }
}
