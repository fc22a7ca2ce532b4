#include "selection.h"
#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

namespace frugal {

int64_t round_half_even(double x) {
  double f = std::floor(x), diff = x - f;
  if (diff > 0.5) return (int64_t)f + 1;
  if (diff < 0.5) return (int64_t)f;
  return ((int64_t)f % 2 == 0) ? (int64_t)f : (int64_t)f + 1;
}

int64_t block_count(int64_t n, double density) {
  if (density <= 0 || n == 0) return 0;
  return std::max<int64_t>(1, std::min<int64_t>(n, round_half_even(n * density)));
}

int64_t line_count(int64_t lines, double density) {
  if (density <= 0) return 0;
  return std::min<int64_t>(lines, std::max<int64_t>(1, (int64_t)std::floor(lines * density)));
}

int64_t dense_rank(int64_t rank_option, double density, int64_t rows, int64_t cols, bool left) {
  int64_t q = std::min(rows, cols);
  if (rank_option > 0) return std::min<int64_t>(rank_option, q);
  if (density <= 0) return 0;
  int64_t len = left ? rows : cols;
  return std::min<int64_t>(q, std::max<int64_t>(1, round_half_even(len * density)));
}

std::vector<int64_t> choose_blocks(frugal_block_order order, int64_t n, int64_t count, int64_t refresh, HostRng& rng) {
  std::vector<int64_t> out;
  if (order == FRUGAL_ORDER_RANDOM) {
    // FRUGAL's BlockOptimizer: randperm(n)[:count], a fresh subset at every refresh, independent
    // of the last one. `rng` (saved in checkpoints) moves on with each draw.
    for (int32_t b : choose_distinct(n, count, rng)) out.push_back(b);
    std::sort(out.begin(), out.end());
    return out;
  }
  if (order == FRUGAL_ORDER_MIRROR) {
    // FRUGAL's mirror: count / 2 pairs (i, n-1-i) at a time, i walking 0, 1, ... n/2 - 1 and
    // wrapping (with n odd the middle block is never chosen). count is even (checked by step_checks).
    const int64_t half = n / 2, pairs = count / 2;
    if (half <= 0) return out;
    for (int64_t j = 0; j < pairs; j++) {
      int64_t i = (refresh * pairs + j) % half;
      out.push_back(i);
      out.push_back(n - 1 - i);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
  if (order == FRUGAL_ORDER_RANDOM_CYCLE) {
    // BAdam: a fresh random permutation of all blocks per cycle of n positions, walked `count`
    // at a time, so each block is state-full exactly once per cycle.
    // `rng` holds the state at the start of the cycle of this refresh's first position: the
    // permutation is drawn from a copy, and `rng` moves on only once a refresh finishes the
    // cycle. So the saved RNG state and the step determine the permutation: a checkpoint taken
    // mid-cycle resumes it exactly.
    if (count <= 0 || n <= 0) return out;
    const int64_t first = refresh * count, cycle = first / n;
    HostRng draw = rng;
    const std::vector<int32_t> perm = choose_distinct(n, n, draw);
    const HostRng next_cycle = draw;
    std::vector<int32_t> next_perm;
    for (int64_t i = 0; i < count; i++) {
      int64_t t = first + i;
      if (t / n == cycle) {
        out.push_back(perm[t % n]);
      } else {
        if (next_perm.empty()) next_perm = choose_distinct(n, n, draw);
        out.push_back(next_perm[t % n]);
      }
    }
    if ((first + count) / n > cycle) rng = next_cycle;  // count <= n: at most one cycle ends here
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
  for (int64_t i = 0; i < count; i++) {
    int64_t t = refresh * count + i;
    int64_t pos;
    switch (order) {
      case FRUGAL_ORDER_ASCENDING: pos = t % n; break;
      default: pos = n - 1 - (t % n); break;  // descending
    }
    out.push_back(pos);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<int32_t> choose_distinct(int64_t n, int64_t count, HostRng& rng) {
  std::vector<int32_t> out;
  count = std::min(count, n);
  if (count * 4 < n) {
    // Sparse draw: rejection against the set drawn so far.
    std::unordered_set<int64_t> seen;
    while ((int64_t)out.size() < count) {
      int64_t x = (int64_t)rng.below((uint64_t)n);
      if (seen.insert(x).second) out.push_back((int32_t)x);
    }
    return out;
  }
  std::vector<int32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  for (int64_t i = 0; i < count; i++) {  // partial Fisher-Yates
    int64_t j = i + (int64_t)rng.below((uint64_t)(n - i));
    std::swap(perm[i], perm[j]);
    out.push_back(perm[i]);
  }
  return out;
}

namespace {
// Index of the first cumulative weight exceeding u * total.
int64_t draw_proportional(const std::vector<double>& w, double total, HostRng& rng) {
  double target = rng.uniform() * total, acc = 0;
  int64_t last = -1;
  for (int64_t i = 0; i < (int64_t)w.size(); i++) {
    if (w[i] <= 0) continue;
    acc += w[i];
    last = i;
    if (acc > target) return i;
  }
  return last;
}
}  // namespace

GrassChoice choose_grass(const std::vector<float>& norms, int64_t r, frugal_grass_sampling sampling, bool replacement,
                         HostRng& rng) {
  int64_t n = (int64_t)norms.size();
  GrassChoice c;
  double total = 0;
  for (float s : norms) total += s;
  if (sampling == FRUGAL_GRASS_NORM && !(total > 0))
    sampling = FRUGAL_GRASS_UNIFORM;  // a zero gradient has no norms to follow
  if (sampling == FRUGAL_GRASS_TOP_R) {
    std::vector<int32_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return norms[a] > norms[b]; });
    c.indices.assign(order.begin(), order.begin() + std::min(r, n));
    std::sort(c.indices.begin(), c.indices.end());
    c.scales.assign(c.indices.size(), 1.f);
    return c;
  }
  if (sampling == FRUGAL_GRASS_UNIFORM) {
    if (replacement) {
      for (int64_t j = 0; j < r; j++) c.indices.push_back((int32_t)rng.below((uint64_t)n));
      std::sort(c.indices.begin(), c.indices.end());
      c.scales.assign(r, (float)std::sqrt((double)n / (double)r));
    } else {
      c.indices = choose_distinct(n, r, rng);
      std::sort(c.indices.begin(), c.indices.end());
      c.scales.assign(c.indices.size(), 1.f);
    }
    return c;
  }
  std::vector<double> w(norms.begin(), norms.end());
  if (replacement) {
    // i.i.d. draws with q_i = s_i / sum(s); rho_j = 1 / sqrt(r q_j) makes E[P P^T G] = G.
    for (int64_t j = 0; j < r; j++) c.indices.push_back((int32_t)draw_proportional(w, total, rng));
    std::sort(c.indices.begin(), c.indices.end());
    for (int32_t i : c.indices) c.scales.push_back((float)(1.0 / std::sqrt((double)r * w[i] / total)));
  } else {
    int64_t positive = 0;
    for (double x : w) positive += x > 0;
    int64_t draws = std::min(r, positive);
    for (int64_t j = 0; j < draws; j++) {
      int64_t i = draw_proportional(w, total, rng);
      c.indices.push_back((int32_t)i);
      total -= w[i];
      w[i] = 0;
    }
    // Fewer nonzero lines than r: fill up with the remaining lines in order.
    for (int64_t i = 0; i < n && (int64_t)c.indices.size() < std::min(r, n); i++)
      if (norms[i] <= 0) c.indices.push_back((int32_t)i);
    std::sort(c.indices.begin(), c.indices.end());
    c.scales.assign(c.indices.size(), 1.f);
  }
  return c;
}

}  // namespace frugal
