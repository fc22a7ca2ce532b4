// The model's CUDA kernels (cuda/model/) on test/kernel-sim's simulator, against the CPU model
// ops: every launcher runs in both run orders (results must be bit-identical between them, and
// the simulator must report no error: barriers, launch limits, host pointers), and each result
// must match the CPU within float tolerance. Built and run by test/model-kernel-sim.test.ts.
// The launchers' device scratch comes from the workspace pool (core/workspace_pool.h), released
// before every run so each slot is exactly the size asked for (an access past it is reported),
// and counted in the ledger as workspace (check_scratch_in_ledger).
#include <cuda_runtime.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/memory.h"
#include "core/workspace_pool.h"
#include "math/dtype_convert.h"
#include "cpu/model/cpu_model_ops.h"
#include "sim_runtime.h"
#include "model/model_cuda.h"

using namespace frugal;
using namespace frugal::model;

// The launchers' DeviceGuard selects a device; the simulator has one.
static int g_device = 0;
cudaError_t cudaGetDevice(int* d) {
  *d = g_device;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int d) {
  g_device = d;
  return cudaSuccess;
}

static int failures = 0, passed = 0;

static std::vector<float> zeros(size_t n, float v = 0.f) { return std::vector<float>(n, v); }

static std::vector<float> rnd(size_t n, unsigned seed, float scale = 1.f) {
  std::vector<float> v(n);
  unsigned s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = ((s >> 8) / 16777216.f * 2.f - 1.f) * scale;
  }
  return v;
}

struct Dev {
  void* p;
  size_t bytes;
  Dev(const void* host, size_t b) : bytes(b) {
    cudaMalloc(&p, b);
    cudaMemcpy(p, host, b, cudaMemcpyHostToDevice);
  }
  template <typename T>
  explicit Dev(const std::vector<T>& v) : Dev(v.data(), v.size() * sizeof(T)) {}
  ~Dev() { cudaFree(p); }
  template <typename T>
  T* as() {
    return static_cast<T*>(p);
  }
  template <typename T>
  std::vector<T> get() {
    std::vector<T> v(bytes / sizeof(T));
    cudaMemcpy(v.data(), p, bytes, cudaMemcpyDeviceToHost);
    return v;
  }
};

// Differences relative to the array's largest magnitude (cancellation makes single elements small).
static void expect_close(const char* what, const std::vector<float>& gpu, const std::vector<float>& cpu, float tol) {
  double worst = 0, scale = 1e-12;
  size_t at = 0;
  for (float c : cpu) scale = std::max(scale, (double)std::fabs(c));
  for (size_t i = 0; i < cpu.size(); i++) {
    double d = std::fabs((double)gpu[i] - cpu[i]) / scale;
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  if (gpu.size() != cpu.size() || !(worst <= tol)) {
    failures++;
    std::printf("FAIL %s: worst relative difference %.3g at %zu (gpu %.7g cpu %.7g)\n", what, worst, at, gpu[at],
                cpu[at]);
  } else {
    passed++;
  }
}

// Runs `run` in both orders; returns the forward-order outputs, checks the reverse order matches bit for bit.
static std::vector<std::vector<float>> both_orders(const char* what,
                                                   const std::function<std::vector<std::vector<float>>()>& run) {
  sim::set_order(sim::Order::Forward);
  WorkspacePool::release(0);
  auto a = run();
  sim::set_order(sim::Order::Reverse);
  WorkspacePool::release(0);
  auto b = run();
  sim::set_order(sim::Order::Forward);
  bool same = a.size() == b.size();
  for (size_t i = 0; same && i < a.size(); i++)
    same = a[i].size() == b[i].size() && std::memcmp(a[i].data(), b[i].data(), a[i].size() * 4) == 0;
  if (!same) {
    failures++;
    std::printf("FAIL %s: the two run orders differ\n", what);
  } else
    passed++;
  for (auto& e : sim::drain_errors()) {
    failures++;
    std::printf("FAIL %s: simulator: %s\n", what, e.c_str());
  }
  return a;
}

static std::vector<float> widen_bf16(const std::vector<uint16_t>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); i++) out[i] = bf16_to_float(v[i]);
  return out;
}

static void check_attention(int64_t batch, int64_t seq, int64_t heads, int64_t hd) {
  AttentionDesc a;
  a.batch = batch;
  a.seq = seq;
  a.heads = heads;
  a.head_dim = hd;
  a.scale = 1.f / std::sqrt((float)hd);
  const size_t n = (size_t)(batch * seq * heads * hd), nl = (size_t)(batch * heads * seq);
  auto q = rnd(n, 1), k = rnd(n, 2), v = rnd(n, 3), dout = rnd(n, 4);
  std::vector<float> out(n), lse(nl), dq(n), dk(n), dv(n);
  cpu_attention_forward(q.data(), k.data(), v.data(), out.data(), lse.data(), a);
  cpu_attention_backward(q.data(), k.data(), v.data(), out.data(), lse.data(), dout.data(), dq.data(), dk.data(),
                         dv.data(), a);
  char name[96];
  std::snprintf(name, sizeof name, "attention b%lld s%lld h%lld d%lld", (long long)batch, (long long)seq,
                (long long)heads, (long long)hd);
  auto r = both_orders(name, [&] {
    Dev Q(q), K(k), V(v), D(dout), O(out), L(lse), DQ(dq), DK(dk), DV(dv);
    cuda_ops::attention_forward(0, Q.as<float>(), K.as<float>(), V.as<float>(), O.as<float>(), L.as<float>(), a,
                                nullptr);
    cuda_ops::attention_backward(0, Q.as<float>(), K.as<float>(), V.as<float>(), O.as<float>(), L.as<float>(),
                                 D.as<float>(), DQ.as<float>(), DK.as<float>(), DV.as<float>(), a, nullptr);
    return std::vector<std::vector<float>>{O.get<float>(), L.get<float>(), DQ.get<float>(), DK.get<float>(),
                                           DV.get<float>()};
  });
  expect_close((std::string(name) + " out").c_str(), r[0], out, 1e-4f);
  expect_close((std::string(name) + " lse").c_str(), r[1], lse, 1e-5f);
  expect_close((std::string(name) + " dq").c_str(), r[2], dq, 2e-3f);
  expect_close((std::string(name) + " dk").c_str(), r[3], dk, 2e-3f);
  expect_close((std::string(name) + " dv").c_str(), r[4], dv, 2e-3f);
}

static void expect_equal(const char* what, uint64_t got, uint64_t want) {
  if (got == want) {
    passed++;
    return;
  }
  failures++;
  std::printf("FAIL %s: %llu, expected %llu\n", what, (unsigned long long)got, (unsigned long long)want);
}

static uint64_t workspace_bytes() { return memory_stats(0).current[FRUGAL_MEM_WORKSPACE]; }

// The launchers' scratch is the pool's, so the ledger counts it as workspace; a larger need grows
// the slot, a smaller one reuses it, and release() gives it back.
static void check_scratch_in_ledger() {
  WorkspacePool::release(0);
  expect_equal("workspace after release", workspace_bytes(), 0);
  AttentionDesc a;
  a.batch = 2;
  a.seq = 5;
  a.heads = 3;
  a.head_dim = 8;
  const size_t n = 2 * 5 * 3 * 8;
  {
    Dev Q(zeros(n)), L(zeros(2 * 3 * 5)), D(zeros(n)), DQ(zeros(n)), DK(zeros(n)), DV(zeros(n));
    cuda_ops::attention_backward(0, Q.as<float>(), Q.as<float>(), Q.as<float>(), Q.as<float>(), L.as<float>(),
                                 D.as<float>(), DQ.as<float>(), DK.as<float>(), DV.as<float>(), a, nullptr);
  }
  // One delta per (batch, head, query): 30 floats in slot 0.
  expect_equal("attention backward scratch", workspace_bytes(), 30 * 4);
  {
    const int64_t vocab = 11, dim = 20, count = 3;
    std::vector<int32_t> ids = {0, 4, 10};
    std::vector<uint16_t> table(vocab * dim, 0);
    Dev I(ids), D(zeros(count * dim)), G(table.data(), table.size() * 2);
    cuda_ops::embedding_backward(0, I.as<int32_t>(), count, D.as<float>(), G.p, BF16, vocab, dim, false, nullptr);
  }
  // A bf16 table accumulates in an fp32 copy: slot 0 grows to vocab * dim floats.
  expect_equal("bf16 embedding backward scratch", workspace_bytes(), 11 * 20 * 4);
  {
    Dev Q(zeros(n)), L(zeros(2 * 3 * 5)), D(zeros(n)), DQ(zeros(n)), DK(zeros(n)), DV(zeros(n));
    cuda_ops::attention_backward(0, Q.as<float>(), Q.as<float>(), Q.as<float>(), Q.as<float>(), L.as<float>(),
                                 D.as<float>(), DQ.as<float>(), DK.as<float>(), DV.as<float>(), a, nullptr);
  }
  expect_equal("a smaller need reuses the slot", workspace_bytes(), 11 * 20 * 4);
  WorkspacePool::release(0);
  expect_equal("workspace after the last release", workspace_bytes(), 0);
  for (auto& e : sim::drain_errors()) {
    failures++;
    std::printf("FAIL scratch in the ledger: simulator: %s\n", e.c_str());
  }
}

int main(int argc, char** argv) {
  check_scratch_in_ledger();

  // ---- attention: one tile and several, head sizes below and above the block's width ----
  check_attention(2, 7, 2, 16);
  check_attention(1, 150, 2, 16);
  check_attention(1, 20, 1, 160);

  // ---- rmsnorm, fp32 and bf16 weights ----
  for (int wdt : {F32, BF16}) {
    const int64_t rows = 37, dim = 300;
    auto x = rnd(rows * dim, 5, 2.f), wf = rnd(dim, 6), dy = rnd(rows * dim, 7), dx0 = rnd(rows * dim, 8);
    std::vector<uint16_t> wb(dim);
    for (int64_t i = 0; i < dim; i++) wb[i] = float_to_bf16(wf[i]);
    const void* wcpu = wdt == F32 ? (const void*)wf.data() : (const void*)wb.data();
    std::vector<float> y(rows * dim), rstd(rows), dx = dx0, dw(dim, 0.5f);
    cpu_rmsnorm_forward(x.data(), wcpu, wdt, y.data(), rstd.data(), rows, dim, 1e-5f);
    cpu_rmsnorm_backward(x.data(), wcpu, wdt, rstd.data(), dy.data(), dx.data(), true, dw.data(), F32, true, rows, dim);
    auto r = both_orders("rmsnorm", [&] {
      Dev X(x), W(wcpu, dim * dtype_size(wdt)), DY(dy), Y(zeros(rows * dim)), R(zeros(rows)), DX(dx0),
          DW(zeros(dim, 0.5f));
      cuda_ops::rmsnorm_forward(0, X.as<float>(), W.p, wdt, Y.as<float>(), R.as<float>(), rows, dim, 1e-5f, nullptr);
      cuda_ops::rmsnorm_backward(0, X.as<float>(), W.p, wdt, R.as<float>(), DY.as<float>(), DX.as<float>(), true, DW.p,
                                 F32, true, rows, dim, nullptr);
      return std::vector<std::vector<float>>{Y.get<float>(), R.get<float>(), DX.get<float>(), DW.get<float>()};
    });
    expect_close("rmsnorm y", r[0], y, 1e-5f);
    expect_close("rmsnorm rstd", r[1], rstd, 1e-5f);
    expect_close("rmsnorm dx", r[2], dx, 1e-4f);
    expect_close("rmsnorm dw", r[3], dw, 1e-4f);
  }

  // ---- rope ----
  {
    AttentionDesc a;
    a.batch = 2;
    a.seq = 9;
    a.heads = 3;
    a.head_dim = 8;
    auto x = rnd(2 * 9 * 3 * 8, 9);
    std::vector<float> fwd = x, back;
    cpu_rope(fwd.data(), a, 10000.f, false);
    auto r = both_orders("rope", [&] {
      Dev X(x);
      cuda_ops::rope(0, X.as<float>(), a, 10000.f, false, nullptr);
      auto f = X.get<float>();
      cuda_ops::rope(0, X.as<float>(), a, 10000.f, true, nullptr);
      return std::vector<std::vector<float>>{f, X.get<float>()};
    });
    expect_close("rope forward", r[0], fwd, 1e-5f);
    expect_close("rope inverse", r[1], x, 1e-5f);
  }

  // ---- swiglu, axpy, gather ----
  {
    const int64_t n = 1000;
    auto g = rnd(n, 10, 4.f), u = rnd(n, 11), d = rnd(n, 12);
    std::vector<float> o(n), dg(n), du(n), y = rnd(n, 13);
    cpu_swiglu_forward(g.data(), u.data(), o.data(), n);
    cpu_swiglu_backward(g.data(), u.data(), d.data(), dg.data(), du.data(), n);
    std::vector<float> yy = y;
    cpu_axpy(yy.data(), g.data(), n, -0.5f);
    const int64_t rows = 25, cols = 40, kk = 6;
    std::vector<int32_t> idx = {39, 0, 7, 7, 12, 3};
    std::vector<float> sc = {1.f, 2.f, -1.f, 0.5f, 3.f, 1.f}, gathered(rows * kk), gathered1(rows * kk);
    cpu_gather_columns(g.data(), rows, cols, idx.data(), sc.data(), kk, gathered.data());
    cpu_gather_columns(g.data(), rows, cols, idx.data(), nullptr, kk, gathered1.data());
    auto r = both_orders("swiglu/axpy/gather", [&] {
      Dev G(g), U(u), D(d), O(zeros(n)), DG(zeros(n)), DU(zeros(n)), Y(y), I(idx), S(sc), GA(zeros(rows * kk)),
          GB(zeros(rows * kk));
      cuda_ops::swiglu_forward(0, G.as<float>(), U.as<float>(), O.as<float>(), n, nullptr);
      cuda_ops::swiglu_backward(0, G.as<float>(), U.as<float>(), D.as<float>(), DG.as<float>(), DU.as<float>(), n,
                                nullptr);
      cuda_ops::axpy(0, Y.as<float>(), G.as<float>(), n, -0.5f, nullptr);
      cuda_ops::gather_columns(0, G.as<float>(), rows, cols, I.as<int32_t>(), S.as<float>(), kk, GA.as<float>(),
                               nullptr);
      cuda_ops::gather_columns(0, G.as<float>(), rows, cols, I.as<int32_t>(), nullptr, kk, GB.as<float>(), nullptr);
      return std::vector<std::vector<float>>{O.get<float>(), DG.get<float>(), DU.get<float>(),
                                             Y.get<float>(), GA.get<float>(), GB.get<float>()};
    });
    expect_close("swiglu forward", r[0], o, 1e-6f);
    expect_close("swiglu dgate", r[1], dg, 1e-6f);
    expect_close("swiglu dup", r[2], du, 1e-6f);
    expect_close("axpy", r[3], yy, 1e-7f);
    expect_close("gather scaled", r[4], gathered, 0.f);
    expect_close("gather", r[5], gathered1, 0.f);
  }

  // ---- cross-entropy: in place, ignored targets, vocab below and above the block width ----
  for (int64_t vocab : {50, 300}) {
    const int64_t rows = 9;
    auto logits = rnd(rows * vocab, 14, 3.f);
    std::vector<int32_t> t(rows);
    for (int64_t r = 0; r < rows; r++) t[r] = r % 4 == 1 ? -1 : (int32_t)((r * 37) % vocab);
    std::vector<float> losses(rows), dl = logits;
    cpu_cross_entropy(dl.data(), t.data(), rows, vocab, losses.data(), dl.data(), 0.25f);
    auto r = both_orders("cross-entropy", [&] {
      Dev L(logits), T(t), LO(zeros(rows));
      cuda_ops::cross_entropy(0, L.as<float>(), T.as<int32_t>(), rows, vocab, LO.as<float>(), L.as<float>(), 0.25f,
                              nullptr);
      return std::vector<std::vector<float>>{LO.get<float>(), L.get<float>()};
    });
    expect_close("cross-entropy losses", r[0], losses, 1e-5f);
    expect_close("cross-entropy dlogits", r[1], dl, 1e-4f);
  }

  // ---- embedding, fp32 and bf16 tables, accumulate or not ----
  for (int dt : {F32, BF16}) {
    for (bool acc : {false, true}) {
      const int64_t vocab = 11, dim = 20, n = 30;
      std::vector<int32_t> ids(n);
      for (int64_t i = 0; i < n; i++) ids[i] = (int32_t)((i * 7) % vocab);
      auto tf = rnd(vocab * dim, 15), dout = rnd(n * dim, 16);
      std::vector<uint16_t> tb(vocab * dim);
      for (size_t i = 0; i < tb.size(); i++) tb[i] = float_to_bf16(tf[i]);
      const void* table = dt == F32 ? (const void*)tf.data() : (const void*)tb.data();
      const size_t tbytes = vocab * dim * dtype_size(dt);
      std::vector<float> out(n * dim);
      std::vector<uint8_t> grad((const uint8_t*)table, (const uint8_t*)table + tbytes);
      cpu_embedding_forward(ids.data(), n, table, dt, vocab, dim, out.data());
      cpu_embedding_backward(ids.data(), n, dout.data(), grad.data(), dt, vocab, dim, acc);
      auto r = both_orders("embedding", [&] {
        Dev I(ids), T(table, tbytes), O(zeros(n * dim)), D(dout), G(table, tbytes);
        cuda_ops::embedding_forward(0, I.as<int32_t>(), n, T.p, dt, vocab, dim, O.as<float>(), nullptr);
        cuda_ops::embedding_backward(0, I.as<int32_t>(), n, D.as<float>(), G.p, dt, vocab, dim, acc, nullptr);
        std::vector<float> g;
        if (dt == F32)
          g = G.get<float>();
        else
          g = widen_bf16(G.get<uint16_t>());
        return std::vector<std::vector<float>>{O.get<float>(), g};
      });
      std::vector<float> gc(vocab * dim);
      for (int64_t i = 0; i < vocab * dim; i++) gc[i] = load_elem(grad.data(), dt, i);
      expect_close("embedding forward", r[0], out, 0.f);
      // bf16 too: both accumulate in fp32 in token order and round once.
      expect_close("embedding backward", r[1], gc, dt == F32 ? 1e-6f : 0.f);
    }
  }

  // Every kernel of cuda/model (the test scans the sources for __global__ functions and passes
  // their names) must have been launched by some check above.
  if (argc < 2) {
    failures++;
    std::printf("FAIL no kernel names given: pass every __global__ function of cuda/model\n");
  }
  for (int i = 1; i < argc; i++) {
    if (sim::launch_count(argv[i]) == 0) {
      failures++;
      std::printf("FAIL kernel %s never ran\n", argv[i]);
    } else
      passed++;
  }
  std::printf("modelsim: %d passed, %d failed (%ld launches)\n", passed, failures, sim::total_launches());
  return failures ? 1 : 0;
}
