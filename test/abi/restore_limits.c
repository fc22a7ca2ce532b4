/* frugal_optimizer_restore_param and frugal_optimizer_verify_state through the C API alone
 * (linked with libfrugal, memory from malloc): counters a run cannot have reached are refused
 * naming the field and change nothing (a step at 2^63 - 1 would overflow, a state step above the
 * step, per-line counters that would overflow int32), and a restored slot_step above the param's
 * state step is refused by verify_state and by the step. Built and run by
 * test/restore-all-or-nothing.test.ts; prints one line per check and exits 0 when all held. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frugal.h"

static int failures = 0;

static void expect(int ok, const char* what) {
  printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) failures++;
}

static int refused(frugal_status s, const char* message) {
  if (s == FRUGAL_ERR_INVALID_ARGUMENT && strcmp(frugal_last_error(), message) == 0) return 1;
  printf("  status %d, last error: %s\n  expected: %s\n", (int)s, s == FRUGAL_OK ? "(none)" : frugal_last_error(),
         message);
  return 0;
}

static int same_counters(const frugal_param_counters* a, const frugal_param_counters* b) {
  return a->step == b->step && a->state_step == b->state_step && a->active == b->active && a->kind == b->kind &&
         a->axis == b->axis && a->selection_count == b->selection_count;
}

int main(void) {
  float* data = calloc(48, sizeof(float));
  float* grad = calloc(48, sizeof(float));
  if (!data || !grad) return 2;
  frugal_optimizer* opt = NULL;
  frugal_group_options o;
  frugal_group_options_default(&o);
  o.lr = 0.01f;
  o.selection = FRUGAL_SEL_COLUMNS;
  o.density = 0.25;
  o.reset_statistics = 0; /* per-line step counters (slot_step) */
  o.update_gap = 2;
  frugal_param_desc d;
  frugal_param_desc_default(&d);
  d.data = data;
  d.grad = grad;
  d.ndim = 2;
  d.shape[0] = 6;
  d.shape[1] = 8;
  int32_t group = 0, param = 0;
  if (frugal_optimizer_create(FRUGAL_CPU, &opt) != FRUGAL_OK || frugal_optimizer_add_group(opt, &o, &group) ||
      frugal_optimizer_add_param(opt, group, &d, &param)) {
    fprintf(stderr, "setup: %s\n", frugal_last_error());
    return 2;
  }
  for (int t = 1; t <= 3; t++) {
    for (int i = 0; i < 48; i++) grad[i] = (float)((i * 7 + t * 13) % 17) - 8.f;
    if (frugal_optimizer_step(opt, NULL) != FRUGAL_OK) {
      fprintf(stderr, "step: %s\n", frugal_last_error());
      return 2;
    }
  }
  frugal_param_counters c, now, bad;
  frugal_optimizer_get_counters(opt, param, &c);
  expect(c.state_step == 3 && c.selection_count == 2, "three steps: state step 3, two columns selected");

  bad = c;
  bad.step = INT64_MAX;
  bad.state_step = 0;
  expect(refused(frugal_optimizer_restore_param(opt, param, &bad),
                 "counters.step: 2^63 - 1 would overflow at the next step"),
         "a step of 2^63 - 1 is refused");
  bad = c;
  bad.step = 2;
  expect(refused(frugal_optimizer_restore_param(opt, param, &bad),
                 "counters.state_step: 3 exceeds counters.step 2 (the state's steps cannot outnumber the param's)"),
         "a state step above the step is refused");
  bad = c;
  bad.step = (int64_t)1 << 40;
  bad.state_step = INT32_MAX;
  expect(refused(frugal_optimizer_restore_param(opt, param, &bad),
                 "counters.state_step: 2147483647 is too large for per-line step counters (int32, advanced at every "
                 "step): expected at most 2147483646"),
         "a state step whose per-line counters would overflow int32 is refused");
  frugal_optimizer_get_counters(opt, param, &now);
  expect(same_counters(&now, &c), "the refused restores changed no counter");
  expect(frugal_optimizer_verify_state(opt, param, NULL) == FRUGAL_OK && frugal_optimizer_step(opt, NULL) == FRUGAL_OK,
         "the optimizer still steps");

  /* A checkpoint's round trip: save the state tensors, restore, fill them, then corrupt slot_step. */
  frugal_optimizer_get_counters(opt, param, &c);
  frugal_state_tensor tensors[8];
  int32_t count = 0;
  frugal_optimizer_state_tensors(opt, param, tensors, 8, &count);
  unsigned char* saved[8];
  size_t bytes[8];
  for (int i = 0; i < count; i++) {
    bytes[i] = (size_t)tensors[i].count * (tensors[i].dtype == FRUGAL_BF16 || tensors[i].dtype == FRUGAL_F16 ? 2 : 4);
    saved[i] = malloc(bytes[i] ? bytes[i] : 1);
    memcpy(saved[i], tensors[i].data, bytes[i]);
  }
  expect(frugal_optimizer_restore_param(opt, param, &c) == FRUGAL_OK, "the saved counters restore");
  frugal_optimizer_state_tensors(opt, param, tensors, 8, &count);
  int32_t* slot = NULL;
  for (int i = 0; i < count; i++) {
    memcpy(tensors[i].data, saved[i], bytes[i]);
    if (strcmp(tensors[i].name, "slot_step") == 0) slot = tensors[i].data;
    free(saved[i]);
  }
  expect(slot != NULL, "the restored state has per-line step counters");
  if (!slot) return 1;
  char message[256];
  snprintf(message, sizeof message,
           "param 0: restored slot_step[1] is %lld; expected a step count from 0 to counters.state_step (%lld): a "
           "line's steps cannot outnumber the param's",
           (long long)c.state_step + 1, (long long)c.state_step);
  slot[1] = (int32_t)c.state_step + 1;
  expect(refused(frugal_optimizer_verify_state(opt, param, NULL), message),
         "verify_state refuses a slot_step above the state step");
  expect(refused(frugal_optimizer_step(opt, NULL), message), "so does the next step");
  slot[1] = (int32_t)c.state_step;
  expect(frugal_optimizer_verify_state(opt, param, NULL) == FRUGAL_OK && frugal_optimizer_step(opt, NULL) == FRUGAL_OK,
         "a slot_step at the state step is accepted, and steps");

  frugal_optimizer_destroy(opt);
  free(data);
  free(grad);
  if (failures) return 1;
  printf("all checks held\n");
  return 0;
}
