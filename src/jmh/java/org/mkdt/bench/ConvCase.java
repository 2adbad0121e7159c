package org.mkdt.bench;

import org.mkdt.backend.Backend;
import org.mkdt.tensor.Tensor;

/**
 * One of the student's 3x3 convolutions at batch 256 ("CIxHW": CI input channels, HW x HW
 * planes, 128 output channels) as seeded tensors on a backend, for the CPU and CUDA convolution
 * benchmarks: inputs, outputs and the GFLOP one pass counts (2 N Co Ci 9 H W, the direct
 * convolution's, whatever algorithm runs).
 */
final class ConvCase {
    final Tensor x, w, bias, y, dy, dx, dw;
    final double gflop;

    ConvCase(Backend b, String layer) {
        int ci = Integer.parseInt(layer.split("x")[0]), hw = Integer.parseInt(layer.split("x")[1]);
        int n = 256, co = 128;
        x = CudaBench.random(b, 1, n, ci, hw, hw);
        w = CudaBench.random(b, 2, co, ci, 3, 3);
        bias = CudaBench.random(b, 3, co);
        dy = CudaBench.random(b, 4, n, co, hw, hw);
        y = CudaBench.zeros(b, n, co, hw, hw);
        dx = CudaBench.zeros(b, n, ci, hw, hw);
        dw = CudaBench.zeros(b, co, ci, 3, 3);
        gflop = 2.0 * n * co * ci * 9 * hw * hw / 1e9;
    }
}
