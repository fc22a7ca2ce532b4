// cuBLAS and cuSOLVER loaded at run time.
//
// Why: the addon is built against the CUDA runtime alone (nvcc, cudart, CUB, Thrust). The math
// libraries are large, are often missing where the addon is built (CI, slim images), and are only
// needed for dense projections (GaLore's GEMMs and SVDs). Linking them would make the addon fail to
// load wherever they are absent; loading them lazily lets it work everywhere and use them where
// they exist, with a hand-written GEMM kernel and the host SVD as fallbacks.
//
// How: on first use, each library is opened with dlopen(RTLD_NOW | RTLD_LOCAL), trying in order
//   1. the file named by FRUGAL_CUBLAS_PATH / FRUGAL_CUSOLVER_PATH, when that variable is set, and
//      then nothing else: an explicit choice is never replaced by another copy (pointing it at a
//      file that does not exist is how the fallback paths are forced, e.g. by the GPU check);
//   2. otherwise the sonames libcublas.so.13, libcublas.so.12, libcublas.so (libcusolver likewise), found
//      through the ordinary loader search (LD_LIBRARY_PATH, ld.so.cache, RUNPATH).
// Then the few entry points we call are resolved with dlsym. We never include cublas_v2.h or
// cusolverDn.h: the function types below restate the documented C signatures, with opaque handles
// as void*, cudaStream_t as void* (it is a pointer type) and enums as int holding their documented
// values (cublasOperation_t: N = 0, T = 1; status SUCCESS = 0). These signatures have been stable
// since CUDA 7. A library counts as available only when every symbol resolved. Handles share the
// primary context with our statically linked runtime, so streams created here work there.
#include "math_libs.h"
#include "../native/cpu/path_counters.h"

#include <dlfcn.h>
#include <link.h>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

namespace frugal {
namespace cuda_libs {
namespace {

const int kNotLoaded = -1;  // returned in place of a library status when the library is absent (library_status.h)

typedef int (*BlasCreateFn)(void**);
typedef int (*BlasDestroyFn)(void*);
typedef int (*BlasSetStreamFn)(void*, void*);
typedef int (*BlasSetWorkspaceFn)(void*, void*, size_t);
typedef int (*BlasSgemmFn)(void*, int, int, int, int, int, const float*, const float*, int, const float*, int,
                           const float*, float*, int);

typedef int (*SolverCreateFn)(void**);
typedef int (*SolverDestroyFn)(void*);
typedef int (*SolverSetStreamFn)(void*, void*);
typedef int (*SolverSgesvdBufferSizeFn)(void*, int, int, int*);
typedef int (*SolverSgesvdFn)(void*, signed char, signed char, int, int, float*, int, float*, float*, int, float*, int,
                              float*, int, float*, int*);

// The full path the loader resolved a handle to ("" if it cannot say).
std::string path_of(void* lib) {
  struct link_map* map = nullptr;
  if (dlinfo(lib, RTLD_DI_LINKMAP, &map) != 0 || !map || !map->l_name) return "";
  return map->l_name;
}

// Opens the first candidate that loads; records every failure for the "why" message.
void* open_first(const char* env_var, const std::vector<const char*>& sonames, std::string* why) {
  std::vector<std::string> candidates;
  const char* override_path = std::getenv(env_var);
  if (override_path && *override_path)
    candidates.push_back(override_path);
  else
    for (const char* name : sonames) candidates.push_back(name);
  std::string tried;
  for (const std::string& path : candidates) {
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib) {
      // An override that did not load is said, not skipped silently for the system library.
      if (override_path && *override_path && path != override_path)
        std::fprintf(stderr, "frugal-optim: %s=%s could not be loaded (%s); using %s\n", env_var, override_path,
                     tried.c_str(), path.c_str());
      debug::note_math_library(env_var, path);  // which candidate won: the override or a soname
      return lib;
    }
    const char* err = dlerror();
    if (!tried.empty()) tried += "; ";
    tried += err ? err : path + ": not found";
  }
  *why = "could not be loaded (" + tried + ")";
  return nullptr;
}

template <typename Fn>
bool resolve(void* lib, const char* symbol, Fn* out, std::string* why) {
  dlerror();
  *out = reinterpret_cast<Fn>(dlsym(lib, symbol));
  if (!*out) {
    *why = std::string("loaded, but symbol ") + symbol + " is missing";
    return false;
  }
  return true;
}

struct Cublas {
  bool ok = false;
  std::string why;
  BlasCreateFn create = nullptr;
  BlasDestroyFn destroy = nullptr;
  BlasSetStreamFn set_stream = nullptr;
  BlasSetWorkspaceFn set_workspace = nullptr;
  BlasSgemmFn sgemm = nullptr;
  std::string path;

  Cublas() {
    void* lib = open_first("FRUGAL_CUBLAS_PATH", {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}, &why);
    if (!lib) return;
    path = path_of(lib);
    ok = resolve(lib, "cublasCreate_v2", &create, &why) && resolve(lib, "cublasDestroy_v2", &destroy, &why) &&
         resolve(lib, "cublasSetStream_v2", &set_stream, &why) &&
         resolve(lib, "cublasSetWorkspace_v2", &set_workspace, &why) && resolve(lib, "cublasSgemm_v2", &sgemm, &why);
    // The library stays open for the life of the process: handles may outlive any one caller.
  }
};

struct Cusolver {
  bool ok = false;
  std::string why;
  SolverCreateFn create = nullptr;
  SolverDestroyFn destroy = nullptr;
  SolverSetStreamFn set_stream = nullptr;
  SolverSgesvdBufferSizeFn sgesvd_buffer_size = nullptr;
  SolverSgesvdFn sgesvd = nullptr;
  std::string path;

  Cusolver() {
    void* lib = open_first("FRUGAL_CUSOLVER_PATH", {"libcusolver.so.12", "libcusolver.so.11", "libcusolver.so"}, &why);
    if (!lib) return;
    path = path_of(lib);
    ok = resolve(lib, "cusolverDnCreate", &create, &why) && resolve(lib, "cusolverDnDestroy", &destroy, &why) &&
         resolve(lib, "cusolverDnSetStream", &set_stream, &why) &&
         resolve(lib, "cusolverDnSgesvd_bufferSize", &sgesvd_buffer_size, &why) &&
         resolve(lib, "cusolverDnSgesvd", &sgesvd, &why);
  }
};

// Function-local statics: loaded once, thread-safely, on first use (never at addon load time).
const Cublas& cublas() {
  static const Cublas lib;
  return lib;
}
const Cusolver& cusolver() {
  static const Cusolver lib;
  return lib;
}

}  // namespace

bool cublas_loaded(std::string* why) {
  const Cublas& lib = cublas();
  if (!lib.ok && why) *why = "cuBLAS " + lib.why;
  return lib.ok;
}

bool cusolver_loaded(std::string* why) {
  const Cusolver& lib = cusolver();
  if (!lib.ok && why) *why = "cuSOLVER " + lib.why;
  return lib.ok;
}

std::string cublas_path() { return cublas().ok ? cublas().path : ""; }
std::string cusolver_path() { return cusolver().ok ? cusolver().path : ""; }

int blas_create(void** handle) { return cublas().ok ? cublas().create(handle) : kNotLoaded; }
int blas_destroy(void* handle) { return cublas().ok ? cublas().destroy(handle) : kNotLoaded; }
int blas_set_stream(void* handle, void* stream) {
  return cublas().ok ? cublas().set_stream(handle, stream) : kNotLoaded;
}
int blas_set_workspace(void* handle, void* workspace, size_t bytes) {
  return cublas().ok ? cublas().set_workspace(handle, workspace, bytes) : kNotLoaded;
}
int blas_sgemm(void* handle, int transa, int transb, int m, int n, int k, const float* alpha, const float* a, int lda,
               const float* b, int ldb, const float* beta, float* c, int ldc) {
  if (!cublas().ok) return kNotLoaded;
  return cublas().sgemm(handle, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int solver_create(void** handle) { return cusolver().ok ? cusolver().create(handle) : kNotLoaded; }
int solver_destroy(void* handle) { return cusolver().ok ? cusolver().destroy(handle) : kNotLoaded; }
int solver_set_stream(void* handle, void* stream) {
  return cusolver().ok ? cusolver().set_stream(handle, stream) : kNotLoaded;
}
int solver_sgesvd_buffer_size(void* handle, int m, int n, int* lwork) {
  return cusolver().ok ? cusolver().sgesvd_buffer_size(handle, m, n, lwork) : kNotLoaded;
}
int solver_sgesvd(void* handle, signed char jobu, signed char jobvt, int m, int n, float* a, int lda, float* s,
                  float* u, int ldu, float* vt, int ldvt, float* work, int lwork, float* rwork, int* info) {
  if (!cusolver().ok) return kNotLoaded;
  return cusolver().sgesvd(handle, jobu, jobvt, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, rwork, info);
}

}  // namespace cuda_libs
}  // namespace frugal
