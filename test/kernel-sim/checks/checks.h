// The check groups main.cpp runs; each compares launchers of cuda/ (simulated) with the CPU
// backend, or with a stated host reference where the CPU backend has no counterpart.
#pragma once

namespace ks {

void check_tensor_ops();        // fill, random, cast, to_f32_scaled
void check_elementwise();       // multi-tensor elementwise_step
void check_indexed();           // indexed_step: rows / columns / coordinates, duplicates, gc path
void check_compressed_dense();  // compressed_direction, dense_apply
void check_reductions();        // sum_squares, step_scalars, line_norms
void check_skip();              // the non-finite skip flag makes every update launcher a no-op
void check_linalg();            // GEMM and SVD, without and with (faked) cuBLAS / cuSOLVER
void check_split_batches();     // elementwise_step over more tensors than one launch carries
void check_backend_host();      // cuda_backend.cu's host glue against a fake runtime
void check_self();              // the checks and the simulator do catch what they claim to

}  // namespace ks
