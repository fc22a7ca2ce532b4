// The CPU backend's model ops: one function cpu_<op> per entry of FRUGAL_MODEL_OPS
// (core/model_backend.h), with the entry's parameters, defined in this folder (cpu_gemm.cpp,
// cpu_row_ops.cpp, cpu_attention.cpp, cpu_cross_entropy.cpp). They run on the CPU thread pool
// (../thread_pool.h) and their results do not depend on its size.
#pragma once
#include "../../core/model_backend.h"

namespace frugal {
namespace model {

#define FRUGAL_CPU_MODEL_OP(name, params, args) void cpu_##name params;
FRUGAL_MODEL_OPS(FRUGAL_CPU_MODEL_OP)
#undef FRUGAL_CPU_MODEL_OP

}  // namespace model
}  // namespace frugal
