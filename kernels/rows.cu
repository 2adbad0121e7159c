// rows.cu - row gather and deterministic scatter-add (CPU reference: RowsKernel).
//
// Entry points (rowLen = elements per row, i.e. the product of the trailing dims):
//   gather_rows_f32(const float* x, const int* idx, float* out, int rows, int rowLen)
//       out (rows, rowLen) = x (M, rowLen)[idx]; idx: device int[rows], each in [0, M).
//   scatter_add_rows_f32(const float* src, const int* target, const int* start,
//                        const int* srcRow, float* out, int targets, int rowLen)
//       CSR form of out (M, rowLen) += src (len(idx), rowLen) scattered to rows idx, prepared
//       on the host: target[targets] = the distinct destination rows; start[targets + 1] with
//       start[0] = 0; srcRow[start[targets]] = the src rows of each target, in ascending src
//       order (= the order of idx). For each t and column j:
//           acc = out[target[t]][j];  for q in start[t] .. start[t+1]-1: acc += src[srcRow[q]][j];
//           out[target[t]][j] = acc.
//
// Launch (both): block 256, grid min(ceil(rows * rowLen / 256), 65535) for gather and
// min(ceil(targets * rowLen / 256), 65535) for scatter, at least 1; grid-stride loop over
// (row, column) elements, column fastest, so a warp touches contiguous columns of one row
// (coalesced) and any grid is correct.
//
// Why CSR and why this order: with distinct targets every output element is owned by one
// thread, so no atomics are needed and the result is bitwise reproducible. Starting the
// float accumulator from out's old value and adding the src rows in idx order performs the
// same float additions in the same order as RowsKernel.scatterAdd (out[d] += (float) src,
// one at a time), so the result is bit-identical to the CPU when srcRow lists each target's
// rows in ascending idx position. (Summing the src rows first and adding the old value last
// would differ from the CPU by rounding.)
// Rows with many duplicates make their threads loop longer; the workload is balanced across
// columns, which is what matters for the wide rows this is used on.

#define ROWS_BLOCK 256

extern "C" __global__ void __launch_bounds__(ROWS_BLOCK)
gather_rows_f32(const float* __restrict__ x, const int* __restrict__ idx, float* __restrict__ out,
                int rows, int rowLen) {
    if (rows <= 0 || rowLen <= 0) return;
    const unsigned len = (unsigned)rowLen;
    const unsigned total = (unsigned)rows * len;
    const unsigned step = gridDim.x * blockDim.x;
    for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        const unsigned r = e / len, j = e - r * len;
        out[e] = x[(unsigned)idx[r] * len + j];
    }
}

extern "C" __global__ void __launch_bounds__(ROWS_BLOCK)
scatter_add_rows_f32(const float* __restrict__ src, const int* __restrict__ target, const int* __restrict__ start,
                     const int* __restrict__ srcRow, float* __restrict__ out, int targets, int rowLen) {
    if (targets <= 0 || rowLen <= 0) return;
    const unsigned len = (unsigned)rowLen;
    const unsigned total = (unsigned)targets * len;
    const unsigned step = gridDim.x * blockDim.x;
    for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        const unsigned t = e / len, j = e - t * len;
        const int q0 = start[t], q1 = start[t + 1];
        const unsigned dst = (unsigned)target[t] * len + j;
        float acc = out[dst];
        for (int q = q0; q < q1; ++q) acc += src[(unsigned)srcRow[q] * len + j];
        out[dst] = acc;
    }
}
