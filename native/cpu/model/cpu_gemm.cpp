// Blocked fp32 GEMM for the CPU model ops (Goto-style): C is cut into tiles, one task each; a
// task walks k in blocks of KC, packs its slice of op(A) (scaled by alpha, bf16 widened) into
// MR-row strips and its slice of op(B) into NR-column strips, and runs a register-blocked micro
// kernel over every strip pair. The micro kernel is picked once at run time: AVX-512, AVX2+FMA,
// or portable C++ that the compiler vectorizes for the baseline ISA, so the addon needs no
// -march flag and still runs anywhere.
//
// Determinism: each element of C is owned by one task and summed over k in the same block
// order whatever the thread count, so the result does not depend on threading.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../path_counters.h"
#include "../../math/dtype_convert.h"
#include "cpu_model_ops.h"
#include "../thread_pool.h"

// Target attributes and __builtin_cpu_supports are GCC / Clang features.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FRUGAL_GEMM_X86 1
#include <immintrin.h>
#endif

namespace frugal {
namespace model {
namespace {

constexpr int64_t NR = 16;      // columns of a micro tile (one zmm or two ymm)
constexpr int64_t KC = 256;     // k block: a packed B strip (KC x NR floats, 16 KiB) stays in L1
constexpr int64_t TILE_M = 96;  // rows of C per task: a multiple of every MR below
constexpr int64_t TILE_N = 128;

// A micro kernel: tile[MR x NR] = sum over kc of a[p][0..MR) outer b[p][0..NR).
typedef void (*MicroKernel)(int64_t kc, const float* a, const float* b, float* tile);

// 3 x 16 in GCC/Clang vector types (SSE2 on x86-64, NEON on arm64): 12 four-wide accumulators
// plus 4 for B fill the 16 registers of the baseline ISAs without spilling.
typedef float v4f __attribute__((vector_size(16)));
void kernel_portable(int64_t kc, const float* a, const float* b, float* tile) {
  v4f acc[3][4];
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++) acc[r][c] = v4f{0.f, 0.f, 0.f, 0.f};
  for (int64_t p = 0; p < kc; p++) {
    v4f bv[4];
    std::memcpy(bv, b + p * NR, sizeof(bv));
    const float* ap = a + p * 3;
    for (int r = 0; r < 3; r++) {
      v4f ar = v4f{ap[r], ap[r], ap[r], ap[r]};
      for (int c = 0; c < 4; c++) acc[r][c] += ar * bv[c];
    }
  }
  std::memcpy(tile, acc, sizeof(acc));
}

#ifdef FRUGAL_GEMM_X86
// 6 x 16 with AVX2: 12 ymm accumulators, two B loads and six broadcasts per k.
__attribute__((target("avx2,fma"))) void kernel_avx2(int64_t kc, const float* a, const float* b, float* tile) {
  __m256 c[6][2];
  for (int r = 0; r < 6; r++) c[r][0] = c[r][1] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    __m256 b0 = _mm256_loadu_ps(b + p * NR), b1 = _mm256_loadu_ps(b + p * NR + 8);
    const float* ap = a + p * 6;
    for (int r = 0; r < 6; r++) {
      __m256 ar = _mm256_broadcast_ss(ap + r);
      c[r][0] = _mm256_fmadd_ps(ar, b0, c[r][0]);
      c[r][1] = _mm256_fmadd_ps(ar, b1, c[r][1]);
    }
  }
  for (int r = 0; r < 6; r++) {
    _mm256_storeu_ps(tile + r * NR, c[r][0]);
    _mm256_storeu_ps(tile + r * NR + 8, c[r][1]);
  }
}

// 12 x 16 with AVX-512: 12 zmm accumulators, one B load and twelve broadcasts per k.
__attribute__((target("avx512f"))) void kernel_avx512(int64_t kc, const float* a, const float* b, float* tile) {
  __m512 c[12];
  for (int r = 0; r < 12; r++) c[r] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    __m512 bv = _mm512_loadu_ps(b + p * NR);
    const float* ap = a + p * 12;
    for (int r = 0; r < 12; r++) c[r] = _mm512_fmadd_ps(_mm512_set1_ps(ap[r]), bv, c[r]);
  }
  for (int r = 0; r < 12; r++) _mm512_storeu_ps(tile + r * NR, c[r]);
}
#endif

struct KernelChoice {
  MicroKernel fn;
  int mr;
};

// FRUGAL_GEMM_KERNEL=portable|avx2|avx512 caps the choice (for tests and comparisons). A request
// the machine cannot honour (avx2 without AVX2+FMA, avx512 without AVX-512F, a name not in that
// list) is never taken silently: the kernel actually used and why are written to stderr once and
// recorded for the addon's _debugPaths().
KernelChoice choose_kernel() {
  const char* cap = std::getenv("FRUGAL_GEMM_KERNEL");
  const std::string want = cap ? cap : "";
  const bool known = want.empty() || want == "portable" || want == "avx2" || want == "avx512";
  bool has512 = false, has2 = false;
#ifdef FRUGAL_GEMM_X86
  __builtin_cpu_init();
  has512 = __builtin_cpu_supports("avx512f");
  has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  const bool allow512 = !known || want.empty() || want == "avx512", allow2 = allow512 || want == "avx2";
  KernelChoice k{kernel_portable, 3};
  std::string name = "portable";
#ifdef FRUGAL_GEMM_X86
  if (allow512 && has512) {
    k = {kernel_avx512, 12};
    name = "avx512";
  } else if (allow2 && has2) {
    k = {kernel_avx2, 6};
    name = "avx2";
  }
#endif
  std::string note;
  if (!known)
    note = "FRUGAL_GEMM_KERNEL=" + want + " is not one of portable, avx2, avx512; ignored";
  else if (!want.empty() && want != name)
    note = "FRUGAL_GEMM_KERNEL=" + want + " requested, but this CPU (or build) lacks " +
           (want == "avx2" ? "AVX2+FMA" : "AVX-512F");
  if (!note.empty()) std::fprintf(stderr, "frugal-optim: %s; using the %s GEMM kernel\n", note.c_str(), name.c_str());
  debug::note_gemm_kernel(want, name, note);
  return k;
}

const KernelChoice& kernel() {
  static const KernelChoice k = choose_kernel();
  return k;
}

// Element (i, p) of op(A) and (p, j) of op(B), widened to fp32.
inline float a_at(const GemmDesc& g, int64_t i, int64_t p) {
  return load_elem(g.a, g.a_dtype, g.trans_a ? p * g.lda + i : i * g.lda + p);
}
inline float b_at(const GemmDesc& g, int64_t p, int64_t j) {
  return load_elem(g.b, g.b_dtype, g.trans_b ? j * g.ldb + p : p * g.ldb + j);
}

// Packs rows [i0, i0 + mc) x k [p0, p0 + kc) of alpha * op(A) into strips of mr rows
// (dst[strip][p][r]), zero-padding the last strip.
void pack_a(const GemmDesc& g, int64_t i0, int64_t mc, int64_t p0, int64_t kc, int mr, float* dst) {
  for (int64_t s = 0; s < mc; s += mr) {
    int64_t rows = std::min<int64_t>(mr, mc - s);
    float* strip = dst + s * kc;
    if (!g.trans_a && g.a_dtype == F32) {
      const float* a = static_cast<const float*>(g.a);
      for (int64_t r = 0; r < rows; r++) {
        const float* src = a + (i0 + s + r) * g.lda + p0;
        for (int64_t p = 0; p < kc; p++) strip[p * mr + r] = g.alpha * src[p];
      }
    } else if (g.trans_a && g.a_dtype == F32) {
      // op(A)(i, p) = A[p, i]: a strip's rows are contiguous in each source row.
      const float* a = static_cast<const float*>(g.a);
      for (int64_t p = 0; p < kc; p++) {
        const float* src = a + (p0 + p) * g.lda + i0 + s;
        for (int64_t r = 0; r < rows; r++) strip[p * mr + r] = g.alpha * src[r];
      }
    } else {
      for (int64_t p = 0; p < kc; p++)
        for (int64_t r = 0; r < rows; r++) strip[p * mr + r] = g.alpha * a_at(g, i0 + s + r, p0 + p);
    }
    for (int64_t r = rows; r < mr; r++)
      for (int64_t p = 0; p < kc; p++) strip[p * mr + r] = 0.f;
  }
}

// Packs k [p0, p0 + kc) x columns [j0, j0 + nc) of op(B) into strips of NR columns
// (dst[strip][p][c]), zero-padding the last strip.
void pack_b(const GemmDesc& g, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* dst) {
  for (int64_t s = 0; s < nc; s += NR) {
    int64_t cols = std::min<int64_t>(NR, nc - s);
    float* strip = dst + s * kc;
    if (!g.trans_b && g.b_dtype == F32) {
      const float* b = static_cast<const float*>(g.b);
      for (int64_t p = 0; p < kc; p++) {
        const float* src = b + (p0 + p) * g.ldb + j0 + s;
        float* out = strip + p * NR;
        for (int64_t c = 0; c < cols; c++) out[c] = src[c];
        for (int64_t c = cols; c < NR; c++) out[c] = 0.f;
      }
    } else if (g.trans_b && g.b_dtype == F32) {
      // op(B)(p, j) = B[j, p]: read each source row contiguously.
      const float* b = static_cast<const float*>(g.b);
      for (int64_t c = 0; c < cols; c++) {
        const float* src = b + (j0 + s + c) * g.ldb + p0;
        for (int64_t p = 0; p < kc; p++) strip[p * NR + c] = src[p];
      }
      for (int64_t c = cols; c < NR; c++)
        for (int64_t p = 0; p < kc; p++) strip[p * NR + c] = 0.f;
    } else {
      for (int64_t p = 0; p < kc; p++) {
        float* out = strip + p * NR;
        for (int64_t c = 0; c < cols; c++) out[c] = b_at(g, p0 + p, j0 + s + c);
        for (int64_t c = cols; c < NR; c++) out[c] = 0.f;
      }
    }
  }
}

// Where a task's results go: C itself, or an fp32 staging copy of the task's tile.
struct OutView {
  void* c;  // element (0, 0) of the task's tile
  int32_t dtype;
  int64_t ldc;
  float beta;
};

inline void* offset_elems(void* base, int32_t dtype, int64_t elems) {
  return static_cast<char*>(base) + elems * dtype_size(dtype);
}

// out[i, j] = (first ? beta * out : out) + tile, for the valid rows x cols of a micro tile at
// (i, j) of the task's tile.
void write_tile(const OutView& o, int64_t i, int64_t j, int64_t rows, int64_t cols, const float* tile, bool first) {
  for (int64_t r = 0; r < rows; r++) {
    int64_t base = (i + r) * o.ldc + j;
    const float* t = tile + r * NR;
    if (o.dtype == F32) {
      float* c = static_cast<float*>(o.c) + base;
      if (!first) {
        for (int64_t q = 0; q < cols; q++) c[q] += t[q];
      } else if (o.beta == 0.f) {
        for (int64_t q = 0; q < cols; q++) c[q] = t[q];
      } else {
        for (int64_t q = 0; q < cols; q++) c[q] = o.beta * c[q] + t[q];
      }
    } else {
      for (int64_t q = 0; q < cols; q++) {
        float old = first ? (o.beta == 0.f ? 0.f : o.beta * load_elem(o.c, o.dtype, base + q))
                          : load_elem(o.c, o.dtype, base + q);
        store_elem(o.c, o.dtype, base + q, old + t[q]);
      }
    }
  }
}

void run_tile(const GemmDesc& g, int64_t i0, int64_t mc, int64_t j0, int64_t nc) {
  const KernelChoice& choice = kernel();
  const int mr = choice.mr;
  thread_local std::vector<float> apack, bpack, staged;
  int64_t mc_pad = (mc + mr - 1) / mr * mr, nc_pad = (nc + NR - 1) / NR * NR;
  apack.resize((size_t)(mc_pad * KC));
  bpack.resize((size_t)(nc_pad * KC));
  float tile[12 * NR];

  OutView direct{offset_elems(g.c, g.c_dtype, i0 * g.ldc + j0), g.c_dtype, g.ldc, g.beta};
  // A bf16 C accumulated over several k blocks would be rounded after every block: sum in an
  // fp32 staging tile instead and round once at the end.
  bool stage = g.c_dtype != F32 && g.k > KC;
  OutView out = direct;
  if (stage) {
    staged.assign((size_t)(mc * nc), 0.f);
    out = OutView{staged.data(), F32, nc, 0.f};
  }

  for (int64_t p0 = 0; p0 < g.k; p0 += KC) {
    int64_t kc = std::min(KC, g.k - p0);
    pack_a(g, i0, mc, p0, kc, mr, apack.data());
    pack_b(g, p0, kc, j0, nc, bpack.data());
    bool first = p0 == 0;
    for (int64_t js = 0; js < nc; js += NR) {
      const float* bstrip = bpack.data() + js * kc;
      int64_t cols = std::min<int64_t>(NR, nc - js);
      for (int64_t is = 0; is < mc; is += mr) {
        choice.fn(kc, apack.data() + is * kc, bstrip, tile);
        write_tile(out, is, js, std::min<int64_t>(mr, mc - is), cols, tile, first);
      }
    }
  }

  if (stage) {
    for (int64_t r = 0; r < mc; r++)
      for (int64_t q = 0; q < nc; q++) {
        int64_t at = r * direct.ldc + q;
        float old = g.beta == 0.f ? 0.f : g.beta * load_elem(direct.c, direct.dtype, at);
        store_elem(direct.c, direct.dtype, at, old + staged[(size_t)(r * nc + q)]);
      }
  }
}

// k == 0: the product is empty, C = beta * C.
void scale_c(const GemmDesc& g) {
  for (int64_t i = 0; i < g.m; i++)
    for (int64_t j = 0; j < g.n; j++) {
      int64_t at = i * g.ldc + j;
      store_elem(g.c, g.c_dtype, at, g.beta == 0.f ? 0.f : g.beta * load_elem(g.c, g.c_dtype, at));
    }
}

}  // namespace

void cpu_gemm(const GemmDesc& g) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0) {
    scale_c(g);
    return;
  }
  int64_t tiles_m = (g.m + TILE_M - 1) / TILE_M, tiles_n = (g.n + TILE_N - 1) / TILE_N;
  run_tasks(tiles_m * tiles_n, [&](int64_t t) {
    int64_t ti = t / tiles_n, tj = t % tiles_n;
    int64_t i0 = ti * TILE_M, j0 = tj * TILE_N;
    run_tile(g, i0, std::min(TILE_M, g.m - i0), j0, std::min(TILE_N, g.n - j0));
  });
}

}  // namespace model
}  // namespace frugal
