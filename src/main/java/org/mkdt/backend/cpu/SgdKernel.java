package org.mkdt.backend.cpu;

import org.mkdt.tensor.Tensor;

/** The fused SGD update (momentum, weight decay) over flat parameter vectors, in place. */
final class SgdKernel {
    private SgdKernel() {}

    static void step(Tensor theta, Tensor grad, Tensor buf, double lr, double momentum, double weightDecay, boolean firstStep) {
        Buf t = Buf.of(theta), g = Buf.of(grad), b = Buf.of(buf);
        int n = theta.numel();
        Parallel.forRange(n, Parallel.grain(n, 1, 1 << 16), (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                double th = t.get(i);
                double d = g.get(i) + weightDecay * th;
                double m = firstStep ? d : momentum * b.get(i) + d;
                b.set(i, m);
                t.set(i, th - lr * m);
            }
        });
    }
}
