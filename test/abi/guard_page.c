/* The sized structs at the very end of a readable page, a PROT_NONE page after them: a library
 * that reads or writes one byte past the caller's `size` (or past the size field, for a size it
 * does not know) crashes here instead of reading a neighbour's bytes. Compiled against the ABI 1
 * header (frugal_param_desc without block_id) by test/review-abi.test.ts; prints one line per
 * check and exits 0 when every check held. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "frugal.h"

#if FRUGAL_ABI_VERSION != 1
#error "compile against the ABI 1 header (node scripts/gen-schema.js --header-at-abi 1 --out DIR/frugal.h)"
#endif

static unsigned char* page_end; /* first byte of the guard page */
static int failures = 0;

static void expect(int ok, const char* what) {
  printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) failures++;
}

/* `bytes` readable bytes that end where the guard page starts. */
static void* tail(size_t bytes) { return page_end - bytes; }

int main(void) {
  const long page = sysconf(_SC_PAGESIZE);
  unsigned char* base = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED || mprotect(base + page, (size_t)page, PROT_NONE) != 0) {
    perror("mmap");
    return 2;
  }
  page_end = base + page;
  memset(base, 0x7f, (size_t)page);

  expect(frugal_abi_version() >= 2, "frugal_abi_version() reports a newer ABI than this header's 1");

  /* init with sizes too small for the size field: nothing written (the pointer may even be the
     guard page itself), and NULL ignored. */
  for (uint32_t size = 0; size < 4; size++) {
    frugal_group_options_init((frugal_group_options*)tail(size), size);
    frugal_param_desc_init((frugal_param_desc*)tail(size), size);
  }
  frugal_group_options_init(NULL, sizeof(frugal_group_options));
  frugal_param_desc_init(NULL, sizeof(frugal_param_desc));
  expect(1, "init with size 0..3 and NULL writes nothing");

  frugal_optimizer* opt = NULL;
  if (frugal_optimizer_create(FRUGAL_CPU, &opt) != FRUGAL_OK) {
    fprintf(stderr, "create: %s\n", frugal_last_error());
    return 2;
  }

  /* Sizes no frugal.h gave: init writes the size field alone, add_* refuses without reading on. */
  const uint32_t unknown[] = {4, 5, 7, 8, 103, 105, 108, 111, 113, 0x7fffffffu, 0xffffffffu};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    frugal_param_desc* d = (frugal_param_desc*)tail(sizeof(uint32_t));
    frugal_param_desc_init(d, unknown[i]);
    int32_t index = -1;
    int refused = d->size == unknown[i] &&
                  frugal_optimizer_add_param(opt, 0, d, &index) == FRUGAL_ERR_INVALID_ARGUMENT && index == -1 &&
                  strstr(frugal_last_error(), "desc.size: expected 104 (ABI 1) or 112 (ABI 2)") != NULL;
    frugal_group_options* o = (frugal_group_options*)tail(sizeof(uint32_t));
    frugal_group_options_init(o, unknown[i]);
    int32_t group = -1;
    refused = refused && o->size == unknown[i] &&
              frugal_optimizer_add_group(opt, o, &group) == FRUGAL_ERR_INVALID_ARGUMENT && group == -1 &&
              strstr(frugal_last_error(), "options.size: expected ") != NULL;
    char what[96];
    snprintf(what, sizeof what, "size %u: init writes the size alone, add_param and add_group refuse it", unknown[i]);
    expect(refused, what);
  }

  /* NULL structs: refused by name. */
  expect(frugal_optimizer_add_group(opt, NULL, NULL) == FRUGAL_ERR_INVALID_ARGUMENT &&
             strstr(frugal_last_error(), "options") != NULL,
         "add_group(NULL options) refused naming options");
  expect(frugal_optimizer_add_param(opt, 0, NULL, NULL) == FRUGAL_ERR_INVALID_ARGUMENT &&
             strstr(frugal_last_error(), "desc") != NULL,
         "add_param(NULL desc) refused naming desc");

  /* The caller's structs at the page end, filled by this (older) header's defaults. */
  frugal_group_options* options = (frugal_group_options*)tail(sizeof(frugal_group_options));
  frugal_group_options_default(options);
  options->selection = FRUGAL_SEL_BLOCKS;
  options->density = 0.5;
  options->state_free = FRUGAL_RULE_SIGN;
  int32_t group = -1;
  expect(frugal_optimizer_add_group(opt, options, &group) == FRUGAL_OK && group == 0, "add_group from the page end");
  expect(frugal_optimizer_set_group_options(opt, group, options) == FRUGAL_OK, "set_group_options from the page end");
  expect(frugal_optimizer_set_group_options(opt, group, NULL) == FRUGAL_ERR_INVALID_ARGUMENT,
         "set_group_options(NULL) refused");

  static float params[2][16], grads[2][16];
  for (int p = 0; p < 2; p++)
    for (int i = 0; i < 16; i++) {
      params[p][i] = 0.01f * (float)(i + 1);
      grads[p][i] = (p + 1) * 0.1f * (float)((i % 3) - 1);
    }
  for (int p = 0; p < 2; p++) {
    frugal_param_desc* desc = (frugal_param_desc*)tail(sizeof(frugal_param_desc));
    frugal_param_desc_default(desc);
    expect(desc->size == 104 && desc->ndim == 0 && desc->data == NULL,
           "param_desc_default at the page end: ABI 1 size, defaults");
    desc->data = params[p];
    desc->grad = grads[p];
    desc->ndim = 2;
    desc->shape[0] = 4;
    desc->shape[1] = 4;
    int32_t index = -1;
    expect(frugal_optimizer_add_param(opt, group, desc, &index) == FRUGAL_OK && index == p,
           "add_param from the page end");
  }
  expect(frugal_optimizer_step(opt, NULL) == FRUGAL_OK, "step");
  uint64_t state = 0;
  /* block_id took its default (each param a block): one of two blocks state-full, two fp32 moments. */
  expect(frugal_optimizer_state_bytes(opt, -1, &state) == FRUGAL_OK && state == 2 * 16 * 4,
         "state bytes of one block of two");
  frugal_optimizer_destroy(opt);
  munmap(base, (size_t)page * 2);
  printf("%s\n", failures ? "some checks failed" : "all checks held");
  return failures ? 1 : 0;
}
