package org.mkdt.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mkdt.ops.Elementwise;
import org.mkdt.tensor.Tensor;

/**
 * Reverse-mode differentiation over the recorded graph.
 *
 * <p>{@code grad(outputs, inputs, createGraph)} returns d(sum of outputs)/d(input) for each
 * input. With createGraph the backward rules run with recording on, so the returned gradients
 * are themselves graph nodes and can be differentiated again (the meta-gradient of trajectory
 * matching needs exactly this). Only the part of the graph between the outputs and the
 * requested inputs is visited, and each rule is told which of its inputs need a gradient, so
 * (for example) no data gradient is computed for the images of a first layer.
 */
public final class Autograd {
    private Autograd() {}

    /** Gradients of a scalar output. */
    public static List<Tensor> grad(Tensor output, List<Tensor> inputs, boolean createGraph) {
        return grad(List.of(output), null, inputs, createGraph);
    }

    /**
     * @param outputs     tensors to differentiate (their gradients are summed)
     * @param gradOutputs the gradient seeded at each output (same shapes), or null for ones (scalars only)
     * @param inputs      tensors to differentiate with respect to; an input the outputs do not
     *                    depend on gets a zero gradient
     * @param createGraph record the backward pass so the results are differentiable
     */
    public static List<Tensor> grad(List<Tensor> outputs, List<Tensor> gradOutputs, List<Tensor> inputs, boolean createGraph) {
        Set<Tensor> wanted = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < inputs.size(); i++) {
            if (!inputs.get(i).requiresGrad()) {
                throw new IllegalArgumentException("input " + i + " " + inputs.get(i) + " does not require grad: call requireGrad() on it first");
            }
            wanted.add(inputs.get(i));
        }
        // As PyTorch: outputs that were not recorded at all (computed under GradMode.noGrad, or
        // from constants only) are an error, not a silent zero gradient.
        boolean anyRecorded = false;
        for (Tensor out : outputs) anyRecorded |= out.requiresGrad();
        if (!anyRecorded) {
            throw new IllegalStateException("grad: no output requires grad (nothing was recorded: computed under GradMode.noGrad, or from constants only)");
        }
        Map<Tensor, Boolean> leadsToInput = new IdentityHashMap<>();
        List<Tensor> order = topologicalOrder(outputs, wanted, leadsToInput);

        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        Map<Tensor, Tensor> results = new IdentityHashMap<>();
        // Without createGraph the intermediate gradients are temporaries: free each one as soon
        // as nothing pending refers to its storage (they would otherwise live until the
        // caller's scope closes, doubling the peak of a double-backward step).
        Temporaries temps = createGraph ? null : new Temporaries(gradOutputs);
        // Gradient buffers this pass allocated for slices' windows: the only ones it may add into in place.
        Set<Tensor> owned = Collections.newSetFromMap(new IdentityHashMap<>());
        try (GradMode.Guard g = GradMode.set(createGraph)) {
            for (int i = 0; i < outputs.size(); i++) {
                Tensor out = outputs.get(i);
                Tensor seed;
                if (gradOutputs != null) {
                    seed = gradOutputs.get(i);
                    checkShape(seed, out, "gradOutput " + i);
                } else {
                    if (out.numel() != 1) {
                        throw new IllegalArgumentException("grad of a non-scalar output " + out.shape() + " needs gradOutputs");
                    }
                    seed = Elementwise.full(out, 1.0);
                    if (temps != null) temps.hold(seed);
                }
                accumulate(grads, out, seed, temps);
            }
            // Walk from the outputs towards the leaves (reverse topological order).
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Tensor gt = grads.remove(t);
                if (gt == null) continue;
                if (wanted.contains(t)) {
                    results.put(t, gt);
                    if (temps != null) temps.pin(gt);
                }
                Node node = t.node();
                if (node == null) {
                    if (temps != null) temps.done(gt);
                    continue;
                }
                Tensor[] ins = node.inputs();
                boolean[] needs = new boolean[ins.length];
                boolean any = false;
                for (int k = 0; k < ins.length; k++) {
                    needs[k] = ins[k] != null && Boolean.TRUE.equals(leadsToInput.get(ins[k]));
                    any |= needs[k];
                }
                if (!any) {
                    if (temps != null) temps.done(gt);
                    continue;
                }
                if (temps != null && node.windowOffset() >= 0) {
                    addToWindow(grads, ins[0], gt, node.windowOffset(), owned, temps);
                    continue;
                }
                Tensor[] gin = node.backward().apply(gt, needs);
                for (int k = 0; k < ins.length; k++) {
                    if (!needs[k] || gin[k] == null) continue;
                    checkShape(gin[k], ins[k], "gradient from " + node.name() + " for its input " + k);
                    if (temps != null) temps.hold(gin[k]);
                    accumulate(grads, ins[k], gin[k], temps);
                }
                if (temps != null) temps.done(gt);
            }
        }
        List<Tensor> out = new ArrayList<>(inputs.size());
        for (Tensor in : inputs) {
            Tensor r = results.get(in);
            if (r == null) {
                try (GradMode.Guard g = GradMode.noGrad()) {
                    r = Elementwise.full(in, 0.0);
                }
            }
            out.add(r);
        }
        return out;
    }

    /**
     * A slice's gradient g added into elements [offset, offset + numel(g)) of the gradient of
     * its input x, without createGraph: into a buffer this pass made (zero-filled once, or
     * copied from a gradient x already had), never into one that a rule may share.
     */
    private static void addToWindow(Map<Tensor, Tensor> grads, Tensor x, Tensor g, int offset, Set<Tensor> owned, Temporaries temps) {
        Tensor acc = grads.get(x);
        if (acc == null || !owned.contains(acc)) {
            Tensor fresh = Tensor.zeros(x.backend(), x.dtype(), x.shape());
            if (acc != null) {
                x.backend().copy(acc, fresh);
                temps.done(acc);
            }
            temps.hold(fresh);
            owned.add(fresh);
            grads.put(x, fresh);
            acc = fresh;
        }
        Tensor window = acc.view(g.shape(), offset);
        x.backend().binary(org.mkdt.backend.BinaryOp.ADD, window, g, window);
        temps.done(g);
    }

    private static void accumulate(Map<Tensor, Tensor> grads, Tensor t, Tensor g, Temporaries temps) {
        Tensor previous = grads.get(t);
        if (previous == null) {
            grads.put(t, g);
            return;
        }
        Tensor sum = Elementwise.add(previous, g);
        grads.put(t, sum);
        if (temps != null) {
            temps.hold(sum);
            temps.done(previous);
            temps.done(g);
        }
    }

    /**
     * Reference counts of the storages behind pending gradients, so that a consumed gradient is
     * released only when no pending gradient or result shares its storage (a backward rule may
     * pass its incoming gradient on unchanged, or as a view). Seeds the caller supplied are
     * never released; results are pinned.
     */
    private static final class Temporaries {
        private final Map<org.mkdt.tensor.Storage, Integer> refs = new IdentityHashMap<>();
        private final Set<org.mkdt.tensor.Storage> never = Collections.newSetFromMap(new IdentityHashMap<>());

        Temporaries(List<Tensor> callerSeeds) {
            if (callerSeeds != null) for (Tensor t : callerSeeds) never.add(t.storage());
        }

        void hold(Tensor t) {
            refs.merge(t.storage(), 1, Integer::sum);
        }

        void pin(Tensor t) {
            never.add(t.storage());
        }

        void done(Tensor t) {
            org.mkdt.tensor.Storage s = t.storage();
            Integer n = refs.get(s);
            if (n == null) return; // not made by this pass (a seed of ones is held below)
            if (n > 1) {
                refs.put(s, n - 1);
                return;
            }
            refs.remove(s);
            if (!never.contains(s)) s.release();
        }
    }

    private static void checkShape(Tensor g, Tensor t, String what) {
        if (!g.shape().equals(t.shape())) {
            throw new IllegalStateException(what + " has shape " + g.shape() + ", expected " + t.shape());
        }
    }

    /**
     * Tensors reachable from the outputs that lead to a wanted input, inputs before the tensors
     * made from them. Iterative depth-first search: unrolled trajectories make deep graphs.
     */
    private static List<Tensor> topologicalOrder(List<Tensor> outputs, Set<Tensor> wanted, Map<Tensor, Boolean> leads) {
        List<Tensor> order = new ArrayList<>();
        Map<Tensor, Boolean> visited = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>(); // {tensor, nextInputIndex}
        for (Tensor root : outputs) {
            if (visited.containsKey(root)) continue;
            stack.push(new Object[] {root, 0});
            visited.put(root, Boolean.TRUE);
            while (!stack.isEmpty()) {
                Object[] frame = stack.peek();
                Tensor t = (Tensor) frame[0];
                int next = (Integer) frame[1];
                Node node = t.node();
                Tensor[] ins = node == null ? new Tensor[0] : node.inputs();
                if (next < ins.length) {
                    frame[1] = next + 1;
                    Tensor in = ins[next];
                    if (in != null && in.requiresGrad() && !visited.containsKey(in)) {
                        visited.put(in, Boolean.TRUE);
                        stack.push(new Object[] {in, 0});
                    }
                    continue;
                }
                stack.pop();
                boolean leadsHere = wanted.contains(t);
                for (Tensor in : ins) {
                    if (in != null && Boolean.TRUE.equals(leads.get(in))) leadsHere = true;
                }
                leads.put(t, leadsHere);
                if (leadsHere) order.add(t);
            }
        }
        return order;
    }
}
