// Sizes made from dimensions a caller gave (element counts, the span of a strided operand), with
// every multiplication and addition checked (__builtin_mul_overflow / __builtin_add_overflow): a
// product that wraps would pass the argument checks as a small size while the arithmetic that
// uses the dimensions indexes a huge one. Element counts are capped at 2^60, as a param's are
// (optimizer.cpp add_param), so their byte sizes fit int64 too. Each refuses with an
// invalid-argument error that names the arguments it multiplied.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include "errors.h"

namespace frugal {

constexpr int64_t kMaxElements = int64_t(1) << 60;

// The product of non-negative `factors`; `what` names them in order ("shape.batch * shape.seq").
inline int64_t checked_product(const char* what, std::initializer_list<int64_t> factors) {
  int64_t product = 1;
  bool overflow = false;
  for (int64_t f : factors)
    overflow = overflow || __builtin_mul_overflow(product, f, &product) || product > kMaxElements;
  if (!overflow) return product;
  std::string values;
  for (int64_t f : factors) values += (values.empty() ? "" : " * ") + std::to_string(f);
  invalid(std::string(what) + ": " + values + " is more than 2^60 elements");
}

// The elements a row-major operand of `rows` rows spans with row stride `ld`, the last row only
// `cols` long: (rows - 1) * ld + cols, 0 without rows; `what` names it ("a: (m - 1) * lda + k").
inline int64_t checked_extent(const char* what, int64_t rows, int64_t cols, int64_t ld) {
  if (rows <= 0) return 0;
  int64_t extent = 0;
  if (__builtin_mul_overflow(rows - 1, ld, &extent) || __builtin_add_overflow(extent, cols, &extent) ||
      extent > kMaxElements)
    invalid(std::string(what) + ": (" + std::to_string(rows) + " - 1) * " + std::to_string(ld) + " + " +
            std::to_string(cols) + " is more than 2^60 elements");
  return extent;
}

}  // namespace frugal
