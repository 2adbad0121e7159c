package org.mkdt.metagrad;

import org.mkdt.tensor.Tensor;

/**
 * @param loss      the matching loss L
 * @param dImages   dL/d images, shaped like the images
 * @param dTargets  dL/d targets, shaped like the targets
 * @param dAlpha    dL/d alpha
 * @param peakBytes the backend's peak live tensor bytes during the computation, above what was
 *                  live when it started (the engine's own accounting)
 */
public record MetaGradResult(double loss, Tensor dImages, Tensor dTargets, double dAlpha, long peakBytes) {}
