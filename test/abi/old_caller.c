/* A runtime built against an older frugal.h (test/schema.test.ts generates it at ABI 1, where
 * frugal_param_desc has no block_id) adds BLOCKS params and steps with today's library. Each
 * param's struct sits in front of bytes it does not own, filled with garbage: the library must read
 * only the caller's fields and give block_id its default (0: each param a block of its own). Read
 * as a block id, the garbage would put both params in one block and change the state they hold. */
#include <stdio.h>
#include <string.h>
#include "frugal.h"

#if FRUGAL_ABI_VERSION != 1
#error "compile against the ABI 1 header (node scripts/gen-schema.js --header-at-abi 1 --out DIR/frugal.h)"
#endif

#define ROWS 4
#define COLS 4
#define N (ROWS * COLS)

static int failed(frugal_status s, const char* what) {
  if (s == FRUGAL_OK) return 0;
  fprintf(stderr, "%s failed (%d): %s\n", what, (int)s, frugal_last_error());
  return 1;
}

int main(void) {
  static float params[2][N], grads[2][N];
  for (int p = 0; p < 2; p++)
    for (int i = 0; i < N; i++) {
      params[p][i] = 0.01f * (float)(i + 1);
      grads[p][i] = (p + 1) * 0.1f * (float)((i % 3) - 1);
    }
  frugal_optimizer* opt = NULL;
  if (failed(frugal_optimizer_create(FRUGAL_CPU, &opt), "create")) return 1;
  frugal_group_options options;
  frugal_group_options_default(&options);
  options.selection = FRUGAL_SEL_BLOCKS;
  options.density = 0.5;
  options.state_free = FRUGAL_RULE_SIGN;
  int32_t group = 0;
  if (failed(frugal_optimizer_add_group(opt, &options, &group), "add_group")) return 1;

  for (int p = 0; p < 2; p++) {
    union {
      frugal_param_desc desc;
      unsigned char bytes[sizeof(frugal_param_desc) + 64];
    } buf;
    memset(buf.bytes, 0x7f, sizeof buf.bytes);
    frugal_param_desc_default(&buf.desc);
    buf.desc.data = params[p];
    buf.desc.grad = grads[p];
    buf.desc.ndim = 2;
    buf.desc.shape[0] = ROWS;
    buf.desc.shape[1] = COLS;
    int32_t index = -1;
    if (failed(frugal_optimizer_add_param(opt, group, &buf.desc, &index), "add_param")) return 1;
  }
  if (failed(frugal_optimizer_step(opt, NULL), "step")) return 1;
  uint64_t state = 0;
  if (failed(frugal_optimizer_state_bytes(opt, -1, &state), "state_bytes")) return 1;
  /* Two blocks, density 0.5: one of them state-full, with AdamW's two fp32 moments. */
  printf("desc size %u, state bytes %llu (expected %d)\n", (unsigned)sizeof(frugal_param_desc),
         (unsigned long long)state, 2 * N * 4);
  int failures = state != 2 * N * 4;

  /* A size that no frugal.h gave is refused, naming the sizes the library knows. */
  frugal_param_desc bad;
  frugal_param_desc_default(&bad);
  bad.size = 8;
  if (frugal_optimizer_add_param(opt, group, &bad, NULL) == FRUGAL_OK) failures++;
  printf("size 8: %s\n", frugal_last_error());
  frugal_optimizer_destroy(opt);
  return failures ? 1 : 0;
}
