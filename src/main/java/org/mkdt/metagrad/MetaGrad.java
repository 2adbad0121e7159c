package org.mkdt.metagrad;

/**
 * The matching loss and its exact gradient with respect to the synthetic images, their targets
 * and the learning rate, through every unrolled SGD step (second-order terms included). Two
 * implementations compute the same numbers: {@link NaiveMetaGrad} (the test oracle) and
 * {@link RecomputeMetaGrad} (the one MKDT uses).
 */
public interface MetaGrad {
    /** Evaluates L and dL/d(images, targets, alpha); the trace collects per-step figures when not null. */
    MetaGradResult compute(MatchingProblem problem, SweepTrace trace);

    default MetaGradResult compute(MatchingProblem problem) {
        return compute(problem, null);
    }

    String name();
}
