package org.mkdt.autograd;

import org.mkdt.tensor.Tensor;

/** Records an op's output into the graph when recording is on and some input needs a gradient. */
public final class Graph {
    private Graph() {}

    /** Returns {@code out}, attached to a node when recording applies. */
    /**
     * A slice: out is elements [offset, offset + numel) of {@code input}, and {@code backward}
     * pads its gradient back to the input's shape. Without createGraph, Autograd skips the rule
     * and adds the gradient straight into that window of the input's (one zero-filled buffer
     * for all slices of a flat parameter vector instead of one padded copy, and one full-size
     * add, per slice).
     */
    public static Tensor recordSlice(Tensor out, int offset, Node.Backward backward, Tensor input) {
        if (!GradMode.isEnabled() || !input.requiresGrad()) return out;
        out.attach(new Node("slice", new Tensor[] {input}, backward, offset));
        return out;
    }

    public static Tensor record(String name, Tensor out, Node.Backward backward, Tensor... inputs) {
        if (!GradMode.isEnabled()) return out;
        for (Tensor in : inputs) {
            if (in != null && in.requiresGrad()) {
                out.attach(new Node(name, inputs.clone(), backward));
                return out;
            }
        }
        return out;
    }
}
