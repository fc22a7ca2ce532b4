// The CUDA backend's model ops: one launcher <op>(device, params, stream) per entry of
// FRUGAL_MODEL_OPS (native/core/model_backend.h), with the entry's parameters, defined in this
// folder (model_gemm.cu, model_kernels.cu, attention_kernels.cu) and reached through
// model_backend.cu's ModelBackend. Plain C++ (no CUDA types); every launcher throws
// frugal::Error on a CUDA failure and never syncs the host.
#pragma once
#include <cstdint>
#include "../../native/core/model_backend.h"

namespace frugal {
namespace model {
namespace cuda_ops {

#define FRUGAL_CUDA_MODEL_OP(name, params, args) void name(int device, FRUGAL_UNPAREN params, void* stream);
FRUGAL_MODEL_OPS(FRUGAL_CUDA_MODEL_OP)
#undef FRUGAL_CUDA_MODEL_OP

}  // namespace cuda_ops
}  // namespace model
}  // namespace frugal
