package org.mkdt.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Deterministic memory management: every storage allocated while a scope is open on this
 * thread belongs to the innermost scope, and closing the scope releases all of them except
 * the ones passed to {@link #keep}, which move to the enclosing scope (or become unscoped).
 * This is what makes peak-memory figures exact and device memory free at known points.
 *
 * <pre>{@code
 * try (Scope s = Scope.open()) {
 *     Tensor loss = ...;            // temporaries
 *     return s.keep(loss);          // survives; everything else is released here
 * }
 * }</pre>
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final Set<Storage> owned = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Thread thread = Thread.currentThread();
    private boolean closed;

    private Scope() {}

    public static Scope open() {
        Scope s = new Scope();
        STACK.get().push(s);
        return s;
    }

    static void registerInCurrent(Storage storage) {
        Scope s = STACK.get().peek();
        if (s != null) s.owned.add(storage);
    }

    /** Moves the tensors' storage out of this scope into the enclosing one; returns the first. */
    public Tensor keep(Tensor... tensors) {
        for (Tensor t : tensors) keepStorage(t.storage());
        return tensors.length > 0 ? tensors[0] : null;
    }

    /** As {@link #keep(Tensor...)} for a list. */
    public <T extends Tensor> List<T> keepAll(List<T> tensors) {
        for (Tensor t : tensors) keepStorage(t.storage());
        return tensors;
    }

    private void keepStorage(Storage st) {
        if (owned.remove(st)) {
            ArrayDeque<Scope> stack = STACK.get();
            Scope parent = null;
            boolean seenSelf = false;
            for (Scope s : stack) {
                if (seenSelf) {
                    parent = s;
                    break;
                }
                seenSelf = s == this;
            }
            if (parent != null) parent.owned.add(st);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        if (Thread.currentThread() != thread) throw new IllegalStateException("scope closed on another thread");
        ArrayDeque<Scope> stack = STACK.get();
        if (!stack.contains(this)) throw new IllegalStateException("scope is not open on this thread");
        // Inner scopes left open (a missing try-with-resources) are closed first: otherwise they
        // would own every later allocation of this thread and never free it.
        while (stack.peek() != this) stack.peek().close();
        stack.pop();
        closed = true;
        List<Storage> toFree = new ArrayList<>(owned);
        owned.clear();
        for (Storage st : toFree) st.release();
    }
}
