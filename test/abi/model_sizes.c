/* The model ops' C API with sizes whose products overflow int64 (or pass 2^60 elements): each is
 * refused with FRUGAL_ERR_INVALID_ARGUMENT and a message naming the arguments, before any work
 * (before these checks such a call ran over the wrapped sizes and crashed). Memory the caller
 * owns (malloc) of the exact extents is accepted: the C API takes any memory a program owns.
 * Compiled against native/include and linked with libfrugal by test/model-op-checks.test.ts;
 * prints one line per check and exits 0 when every check held. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frugal.h"
#include "frugal_model.h"

static int failures = 0;

static void expect(int ok, const char* what) {
  printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) failures++;
}

/* The call was refused as an invalid argument, with `message` as frugal_last_error(). */
static int refused(frugal_status s, const char* message) {
  if (s == FRUGAL_ERR_INVALID_ARGUMENT && strcmp(frugal_last_error(), message) == 0) return 1;
  printf("  status %d, last error: %s\n  expected: %s\n", (int)s, s == FRUGAL_OK ? "(none)" : frugal_last_error(),
         message);
  return 0;
}

int main(void) {
  float* buf = calloc(64, sizeof(float));
  if (!buf) return 2;
  const int64_t B = (int64_t)1 << 40;

  frugal_attention_shape huge = {B, B, B, 2, 0.f};
  expect(refused(frugal_model_attention_forward(FRUGAL_CPU, buf, buf, buf, buf, buf, &huge, NULL),
                 "shape.batch * shape.seq * shape.heads * shape.head_dim: 1099511627776 * 1099511627776 * "
                 "1099511627776 * 2 is more than 2^60 elements"),
         "attention_forward: batch * seq * heads * head_dim overflowing int64 is refused");
  /* 2^62 elements: no int64 overflow, but past the 2^60 cap (its bytes would not fit int64). */
  frugal_attention_shape large = {1, (int64_t)1 << 31, (int64_t)1 << 31, 1, 0.f};
  expect(refused(frugal_model_rope(FRUGAL_CPU, buf, &large, 10000.f, 0, NULL),
                 "shape.batch * shape.seq * shape.heads * shape.head_dim: 1 * 2147483648 * 2147483648 * 1 is more "
                 "than 2^60 elements"),
         "rope: 2^62 elements are refused");

  const int64_t M = (int64_t)1 << 62;
  expect(refused(frugal_model_gemm(FRUGAL_CPU, 0, 0, M, 1, 1, 1.f, buf, FRUGAL_F32, 1, buf, FRUGAL_F32, 1, 0.f, buf,
                                   FRUGAL_F32, 4, NULL),
                 "c: (m - 1) * ldc + n: (4611686018427387904 - 1) * 4 + 1 is more than 2^60 elements"),
         "gemm: C's extent (m - 1) * ldc + n overflowing int64 is refused");
  expect(refused(frugal_model_gemm(FRUGAL_CPU, 1, 0, 1, 1, M, 1.f, buf, FRUGAL_F32, 1, buf, FRUGAL_F32, 1, 0.f, buf,
                                   FRUGAL_F32, 1, NULL),
                 "a: (k - 1) * lda + m: (4611686018427387904 - 1) * 1 + 1 is more than 2^60 elements"),
         "gemm: A's extent past 2^60 elements is refused");
  expect(refused(frugal_model_embedding_forward(FRUGAL_CPU, (const int32_t*)buf, 1, buf, FRUGAL_F32, M, 4, buf, NULL),
                 "vocab * dim: 4611686018427387904 * 4 is more than 2^60 elements"),
         "embedding_forward: vocab * dim overflowing int64 is refused");
  expect(refused(frugal_model_swiglu_forward(FRUGAL_CPU, buf, buf, buf, INT64_MAX, NULL),
                 "n: 9223372036854775807 is more than 2^60 elements"),
         "swiglu_forward: n whose byte size overflows is refused");
  expect(refused(frugal_model_axpy(FRUGAL_CPU, buf, buf, INT64_MAX, 1.f, NULL),
                 "n: 9223372036854775807 is more than 2^60 elements"),
         "axpy: n whose byte size overflows is refused");
  expect(refused(frugal_model_cross_entropy(FRUGAL_CPU, buf, (const int32_t*)buf, M, M, buf, NULL, 1.f, NULL),
                 "rows * vocab: 4611686018427387904 * 4611686018427387904 is more than 2^60 elements"),
         "cross_entropy: rows * vocab overflowing int64 is refused");
  expect(refused(frugal_model_gather_columns(FRUGAL_CPU, buf, 3, M, (const int32_t*)buf, NULL, 1, buf, NULL),
                 "rows * cols: 3 * 4611686018427387904 is more than 2^60 elements"),
         "gather_columns: rows * cols overflowing int64 is refused");
  expect(refused(frugal_model_rmsnorm_forward(FRUGAL_CPU, buf, buf, FRUGAL_F32, buf, buf, M, M, 1e-5f, NULL),
                 "rows * dim: 4611686018427387904 * 4611686018427387904 is more than 2^60 elements"),
         "rmsnorm_forward: rows * dim overflowing int64 is refused");

  /* Control: exact extents in memory the caller owns. batch 1, seq 3, heads 2, head_dim 4: q, k,
     v, out 24 floats each, lse 6. */
  float* q = calloc(24 * 4 + 6, sizeof(float));
  if (!q) return 2;
  frugal_attention_shape small = {1, 3, 2, 4, 0.f};
  frugal_status s = frugal_model_attention_forward(FRUGAL_CPU, q, q + 24, q + 48, q + 72, q + 96, &small, NULL);
  if (s != FRUGAL_OK) printf("  last error: %s\n", frugal_last_error());
  expect(s == FRUGAL_OK, "caller-owned memory of the exact extents is accepted");

  free(q);
  free(buf);
  if (failures) return 1;
  printf("all checks held\n");
  return 0;
}
