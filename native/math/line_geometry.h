// A matrix (rows x cols, row-major) seen as lines: rows, columns or single elements. The one
// definition of line counts, line lengths and the slot layout, shared by the core (selections,
// checkpoints) and the backends' loops, host and device alike.
#pragma once
#include "hd.h"

namespace frugal {

enum Axis : int32_t { AXIS_ROWS = 0, AXIS_COLS = 1, AXIS_COORDS = 2 };

struct LineGeometry {
  int32_t axis;
  int64_t rows, cols;

  FRUGAL_HD int64_t lines() const { return axis == AXIS_ROWS ? rows : (axis == AXIS_COLS ? cols : rows * cols); }
  FRUGAL_HD int64_t line_length() const { return axis == AXIS_ROWS ? cols : (axis == AXIS_COLS ? rows : 1); }
  // The row-major offset of element t of line `line`.
  FRUGAL_HD int64_t element(int64_t line, int64_t t) const {
    return axis == AXIS_ROWS ? line * cols + t : (axis == AXIS_COLS ? t * cols + line : line);
  }
  // The line the element at row-major offset e lies on.
  FRUGAL_HD int64_t line_of(int64_t e) const {
    return axis == AXIS_ROWS ? e / cols : (axis == AXIS_COLS ? e % cols : e);
  }
  // Where element t of selection entry j (of k) sits in the moments and in a compressed gradient:
  // for COLS an m x k matrix (as G[:, idx]), so t * k + j; otherwise entry by entry, j * len + t.
  FRUGAL_HD int64_t slot(int64_t j, int64_t t, int64_t k) const {
    return axis == AXIS_COLS ? t * k + j : j * line_length() + t;
  }
  // A per-line byte mask's size, rounded up to whole int32 words (checkpoints list it as int32).
  FRUGAL_HD int64_t mask_bytes() const { return ((lines() + 3) / 4) * 4; }
};

}  // namespace frugal
