package org.mkdt.autograd;

import org.mkdt.tensor.Tensor;

/**
 * How a tensor was made: the op's name, its inputs and its backward rule. The rule is written
 * with ops, so when it runs with recording on (createGraph) its results are graph nodes too.
 */
public final class Node {
    private final String name;
    private final Tensor[] inputs;
    private final Backward backward;

    /** A backward rule: the gradient of each input given the output's, null where not needed. */
    @FunctionalInterface
    public interface Backward {
        /**
         * @param grad  gradient with respect to the op's output (same shape)
         * @param needs needs[i] is true when input i's gradient is wanted
         * @return one gradient per input (same shape as that input), null where not needed
         */
        Tensor[] apply(Tensor grad, boolean[] needs);
    }

    Node(String name, Tensor[] inputs, Backward backward) {
        this.name = name;
        this.inputs = inputs;
        this.backward = backward;
    }

    public String name() {
        return name;
    }

    Tensor[] inputs() {
        return inputs;
    }

    Backward backward() {
        return backward;
    }
}
