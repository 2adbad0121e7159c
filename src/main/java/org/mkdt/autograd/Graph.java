package org.mkdt.autograd;

import org.mkdt.tensor.Tensor;

/** Records an op's output into the graph when recording is on and some input needs a gradient. */
public final class Graph {
    private Graph() {}

    /** Returns {@code out}, attached to a node when recording applies. */
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
