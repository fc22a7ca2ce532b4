/* Embedding frugal-optim from C, no Node involved: one AdamW step on CPU buffers the caller owns,
 * checked against the closed-form first step of Adam (|update| = lr for every nonzero gradient). */
#include <math.h>
#include <stdio.h>
#include "frugal.h"

#define N 8

static int check(frugal_status s, const char* what) {
  if (s != FRUGAL_OK) {
    fprintf(stderr, "%s failed (%d): %s\n", what, (int)s, frugal_last_error());
    return 1;
  }
  return 0;
}

int main(void) {
  float param[N], grad[N];
  for (int i = 0; i < N; i++) {
    param[i] = 1.0f + 0.1f * (float)i;
    grad[i] = (i % 2 ? -1.0f : 1.0f) * (0.5f + (float)i);
  }
  frugal_optimizer* opt = NULL;
  if (check(frugal_optimizer_create(FRUGAL_CPU, &opt), "frugal_optimizer_create")) return 1;

  frugal_group_options options;
  frugal_group_options_default(&options);
  options.lr = 0.01f;
  options.weight_decay = 0.1f;
  int32_t group = 0, index = 0;
  if (check(frugal_optimizer_add_group(opt, &options, &group), "frugal_optimizer_add_group")) return 1;

  /* Option structs start from their defaults (which also set their size: see frugal.h). */
  frugal_param_desc desc;
  frugal_param_desc_default(&desc);
  desc.data = param;
  desc.dtype = FRUGAL_F32;
  desc.grad = grad;
  desc.grad_dtype = FRUGAL_F32;
  desc.ndim = 1;
  desc.shape[0] = N;
  if (check(frugal_optimizer_add_param(opt, group, &desc, &index), "frugal_optimizer_add_param")) return 1;
  if (check(frugal_optimizer_step(opt, NULL), "frugal_optimizer_step")) return 1;

  uint64_t state = 0;
  if (check(frugal_optimizer_state_bytes(opt, -1, &state), "frugal_optimizer_state_bytes")) return 1;

  /* Step 1 of bias-corrected Adam moves each weight by lr * sign(g) (up to eps), after decay. */
  int failures = 0;
  for (int i = 0; i < N; i++) {
    float p0 = 1.0f + 0.1f * (float)i;
    float expected = p0 * (1.0f - 0.01f * 0.1f) - 0.01f * (grad[i] > 0 ? 1.0f : -1.0f);
    if (fabsf(param[i] - expected) > 1e-6f) {
      fprintf(stderr, "param[%d] = %.8f, expected %.8f\n", i, param[i], expected);
      failures++;
    }
  }
  printf("AdamW step on %d CPU parameters: %s; optimizer state %llu bytes (expected %d)\n", N,
         failures ? "WRONG" : "ok", (unsigned long long)state, 2 * N * 4);
  if (state != 2 * N * 4) failures++;
  if (check(frugal_optimizer_destroy(opt), "frugal_optimizer_destroy")) return 1;

  /* A bad argument is an error with a message, not a crash. */
  options.beta1 = 1.5f;
  frugal_optimizer* bad = NULL;
  frugal_optimizer_create(FRUGAL_CPU, &bad);
  if (frugal_optimizer_add_group(bad, &options, &group) == FRUGAL_OK) failures++;
  printf("bad beta1 rejected: %s\n", frugal_last_error());

  /* A struct whose size no frugal.h gave (here: never set) is refused too. */
  frugal_group_options unsized = options;
  unsized.size = 0;
  if (frugal_optimizer_add_group(bad, &unsized, &group) == FRUGAL_OK) failures++;
  printf("unsized options rejected: %s\n", frugal_last_error());
  printf("library ABI %d, header ABI %d, version %s\n", (int)frugal_abi_version(), FRUGAL_ABI_VERSION,
         frugal_version());
  frugal_optimizer_destroy(bad);
  return failures ? 1 : 0;
}
