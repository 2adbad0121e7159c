package org.mkdt.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.runtime.cudaStream_t;

/**
 * cuBLAS as an optional accelerator for GEMM. JCublas 12.6 binds libcublas.so.12; where that
 * library is missing (CUDA 13 machines ship libcublas.so.13) the probe records why and the
 * hand-written kernel is used. Set MKDT_CUBLAS=0 to keep the hand-written kernel even where
 * cuBLAS loads. cuBLAS runs on the backend's stream, in pedantic float32 (no TF32).
 */
public final class Cublas {
    private final cublasHandle handle;
    private final String status;

    private Cublas(cublasHandle handle, String status) {
        this.handle = handle;
        this.status = status;
    }

    static Cublas probe(CudaDevice device) {
        if ("0".equals(System.getenv("MKDT_CUBLAS"))) return new Cublas(null, "disabled (MKDT_CUBLAS=0)");
        try {
            JCublas2.setExceptionsEnabled(true);
            cublasHandle h = new cublasHandle();
            JCublas2.cublasCreate(h);
            JCublas2.cublasSetStream(h, new cudaStream_t(device.stream()));
            JCublas2.cublasSetMathMode(h, cublasMath.CUBLAS_PEDANTIC_MATH);
            int[] v = {0};
            JCublas2.cublasGetVersion(h, v);
            return new Cublas(h, "loaded (cuBLAS " + v[0] + ")");
        } catch (Throwable e) { // UnsatisfiedLinkError where libcublas.so.12 is absent
            return new Cublas(null, "not loaded (" + CudaDevice.linkFailure(e) + ")");
        }
    }

    public boolean available() {
        return handle != null;
    }

    /** "loaded (cuBLAS N)", "not loaded (why)" or "disabled (...)". */
    public String status() {
        return status;
    }

    /**
     * Row-major C (M, N) = op(A) op(B) + beta C, for each product of the batch. cuBLAS is
     * column-major: a row-major matrix is its transpose in column-major, so it computes
     * C^T = op(B)^T op(A)^T by swapping operands (and their batch strides). A batch of one is a
     * plain cublasSgemm, as before batches existed; a larger one is one strided-batched call.
     */
    void sgemm(GemmKernel.Batch batch, int m, int n, int k, CUdeviceptr a, int lda, boolean transA, CUdeviceptr b, int ldb, boolean transB,
            CUdeviceptr c, int ldc, float beta) {
        int opB = transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        int opA = transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        Pointer one = Pointer.to(new float[] {1f}), b0 = Pointer.to(new float[] {beta});
        if (batch.count() == 1) {
            JCublas2.cublasSgemm(handle, opB, opA, n, m, k, one, b, ldb, a, lda, b0, c, ldc);
        } else {
            JCublas2.cublasSgemmStridedBatched(handle, opB, opA, n, m, k, one, b, ldb, batch.strideB(), a, lda, batch.strideA(), b0,
                    c, ldc, batch.strideC(), batch.count());
        }
    }
}
