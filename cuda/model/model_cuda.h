// The CUDA side of the model ops: launchers with the same arguments as the CPU ones in
// native/model/model_ops.h, plus the device ordinal and the stream. Plain C++ (no CUDA types),
// so the C API (native/model/model_c_api.cpp) can call them from a .cpp file. Compiled only
// when the build has nvcc (FRUGAL_WITH_CUDA); every launcher throws frugal::Error on a CUDA
// failure and never syncs the host.
#pragma once
#include <cstdint>
#include "model/model_ops.h"

namespace frugal {
namespace model {
namespace cuda_ops {

void gemm(int device, const GemmDesc& g, void* stream);
void embedding_forward(int device, const int32_t* ids, int64_t n, const void* table, int32_t dtype, int64_t vocab,
                       int64_t dim, float* out, void* stream);
void embedding_backward(int device, const int32_t* ids, int64_t n, const float* dout, void* dtable, int32_t dtype,
                        int64_t vocab, int64_t dim, bool accumulate, void* stream);
void rmsnorm_forward(int device, const float* x, const void* w, int32_t w_dtype, float* y, float* rstd, int64_t rows,
                     int64_t dim, float eps, void* stream);
void rmsnorm_backward(int device, const float* x, const void* w, int32_t w_dtype, const float* rstd, const float* dy,
                      float* dx, bool accumulate_dx, void* dw, int32_t dw_dtype, bool accumulate_dw, int64_t rows,
                      int64_t dim, void* stream);
void rope(int device, float* x, const AttentionDesc& a, float theta, bool inverse, void* stream);
void attention_forward(int device, const float* q, const float* k, const float* v, float* out, float* lse,
                       const AttentionDesc& a, void* stream);
void attention_backward(int device, const float* q, const float* k, const float* v, const float* out,
                        const float* lse, const float* dout, float* dq, float* dk, float* dv, const AttentionDesc& a,
                        void* stream);
void swiglu_forward(int device, const float* gate, const float* up, float* out, int64_t n, void* stream);
void swiglu_backward(int device, const float* gate, const float* up, const float* dout, float* dgate, float* dup,
                     int64_t n, void* stream);
void cross_entropy(int device, const float* logits, const int32_t* targets, int64_t rows, int64_t vocab,
                   float* losses, float* dlogits, float grad_scale, void* stream);
void axpy(int device, float* y, const float* x, int64_t n, float alpha, void* stream);
void gather_columns(int device, const float* src, int64_t rows, int64_t cols, const int32_t* idx, const float* scale,
                    int64_t k, float* dst, void* stream);

}  // namespace cuda_ops
}  // namespace model
}  // namespace frugal
