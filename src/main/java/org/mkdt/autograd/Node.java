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
    /** For a slice: where its output sits in its one input's elements; -1 for every other op. */
    private final int windowOffset;

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
        this(name, inputs, backward, -1);
    }

    Node(String name, Tensor[] inputs, Backward backward, int windowOffset) {
        this.name = name;
        this.inputs = inputs;
        this.backward = backward;
        this.windowOffset = windowOffset;
    }

    /** The element offset of a slice's output in its input, or -1 (not a slice). */
    int windowOffset() {
        return windowOffset;
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
