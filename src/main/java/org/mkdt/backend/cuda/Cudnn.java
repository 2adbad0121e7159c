package org.mkdt.backend.cuda;

import jcuda.jcudnn.JCudnn;

/**
 * cuDNN, probed and reported. The newest JCudnn (11.7) binds libcudnn.so.8; the GPU machines
 * here carry cuDNN 9, where it cannot load. Convolutions always use the hand-written
 * im2col + GEMM kernels (kernels/conv2d.cu); a cuDNN path is future work where cuDNN 8 exists.
 */
public final class Cudnn {
    private Cudnn() {}

    /** "loaded (cuDNN N)" or "not loaded (why)". */
    public static String status() {
        try {
            long v = JCudnn.cudnnGetVersion();
            return "loaded (cuDNN " + v + "; probed only: convolutions use the hand-written kernels)";
        } catch (Throwable e) {
            String why = CudaDevice.linkFailure(e);
            // JCudnn's newest natives are 11.7.0, but the loader asks for the JCuda core's version.
            if (why.contains("JCudnn-" + CudaDevice.jcudaVersion())) {
                why = "JCudnn's newest natives are version 11.7.0, for libcudnn.so.8, and do not load beside JCuda " + CudaDevice.jcudaVersion();
            }
            return "not loaded (" + why + ")";
        }
    }
}
