/* frugal.h: the C API of frugal-optim.
 *
 * Memory-efficient optimizers (AdamW, SGD with momentum, signSGD, FRUGAL, Grass, GaLore, BAdam)
 * stepping raw parameter and gradient buffers on the CPU or a CUDA device. Everything is a
 * configuration of one framework: a selection of the state-full part of each parameter, a
 * state-full rule on it and a state-free rule on the rest.
 *
 * Conventions
 * - Every function returns a frugal_status; on failure frugal_last_error() (thread-local) says
 *   what went wrong, naming the argument and what was expected. Nothing is changed on failure.
 * - Devices: FRUGAL_CPU (-1) or a CUDA ordinal 0, 1, ...
 * - Streams: a cudaStream_t passed as void*; NULL is the legacy default stream. Ignored on the CPU.
 * - Buffers handed in (parameters, gradients) stay the caller's: never freed by the library.
 */
#ifndef FRUGAL_H
#define FRUGAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define FRUGAL_API __declspec(dllexport)
#else
#define FRUGAL_API __attribute__((visibility("default")))
#endif

#define FRUGAL_CPU (-1)
#define FRUGAL_MAX_DIMS 8

typedef enum {
  FRUGAL_OK = 0,
  FRUGAL_ERR_INVALID_ARGUMENT = 1,
  FRUGAL_ERR_OUT_OF_MEMORY = 2,
  FRUGAL_ERR_DEVICE = 3,        /* no such device, driver missing, or a CUDA error */
  FRUGAL_ERR_UNSUPPORTED = 4,   /* built without the needed backend or library */
  FRUGAL_ERR_STATE = 5          /* call not valid in the object's current state */
} frugal_status;

typedef enum { FRUGAL_F32 = 0, FRUGAL_BF16 = 1, FRUGAL_F16 = 2, FRUGAL_I32 = 3 } frugal_dtype;

typedef enum {
  FRUGAL_MEM_TENSOR = 0,
  FRUGAL_MEM_OPTIMIZER_STATE = 1,
  FRUGAL_MEM_WORKSPACE = 2,
  FRUGAL_MEM_GRADIENTS = 3,     /* gradient tensors a training loop allocates */
  FRUGAL_MEM_ACTIVATIONS = 4,   /* forward activations kept for the backward pass */
  FRUGAL_MEM_CATEGORIES = 5
} frugal_mem_category;

FRUGAL_API const char* frugal_last_error(void);
FRUGAL_API const char* frugal_version(void);

/* ---- devices ---- */
typedef struct {
  char name[256];
  uint64_t total_memory;
  int32_t cc_major, cc_minor;
  int32_t multiprocessors;
  int32_t usable;               /* 0: this build cannot run on it (e.g. a GPU older than its architectures) */
  char unusable_reason[256];    /* why not, when usable is 0 */
} frugal_device_info;

/* Number of usable CUDA devices: 0 without CUDA support, a driver or a GPU (not an error). */
FRUGAL_API frugal_status frugal_cuda_device_count(int32_t* count);
/* Why CUDA is unavailable (empty when it is available). */
FRUGAL_API const char* frugal_cuda_unavailable_reason(void);
FRUGAL_API frugal_status frugal_cuda_device_info(int32_t device, frugal_device_info* out);
/* Whether cuBLAS / cuSOLVER could be loaded for dense projections (loaded at run time). */
FRUGAL_API int32_t frugal_cuda_math_available(int32_t device);
/* What the dense projections use on this device, in words: where cuBLAS / cuSOLVER were loaded
   from and whether their handles were created, or why a fallback is in use (the fp64 GEMM kernel,
   the host SVD). Valid until the next call on this thread. */
FRUGAL_API const char* frugal_cuda_math_status(int32_t device);

/* ---- CPU threads ----
   The CPU backend runs the optimizer's loops, the model ops and the host SVD on one persistent
   pool of threads, the calling thread included. Its size is the last frugal_set_num_threads,
   else FRUGAL_NUM_THREADS (1..256), else the hardware's thread count; results do not depend on
   it. Setting it waits for work in progress on the pool. */
FRUGAL_API frugal_status frugal_set_num_threads(int32_t threads); /* 1..256, or 0 for the default */
FRUGAL_API frugal_status frugal_get_num_threads(int32_t* threads);

/* ---- streams ---- */
FRUGAL_API frugal_status frugal_stream_create(int32_t device, void** stream);
FRUGAL_API frugal_status frugal_stream_destroy(int32_t device, void* stream);
FRUGAL_API frugal_status frugal_synchronize(int32_t device, void* stream);

/* ---- timing events ----
   CUDA events on a GPU: recorded on a stream without a host sync, so a benchmark times the device's
   work alone. On the CPU, where every call is synchronous, an event is a host timestamp. */
typedef struct frugal_event frugal_event;
FRUGAL_API frugal_status frugal_event_create(int32_t device, frugal_event** out);
FRUGAL_API frugal_status frugal_event_record(frugal_event* event, void* stream);
/* Milliseconds from start to end; waits for end to complete. */
FRUGAL_API frugal_status frugal_event_elapsed_ms(frugal_event* start, frugal_event* end, float* ms);
FRUGAL_API frugal_status frugal_event_destroy(frugal_event* event);

/* ---- memory (owned allocations, counted by category) ---- */
typedef struct {
  uint64_t current[FRUGAL_MEM_CATEGORIES];
  uint64_t peak[FRUGAL_MEM_CATEGORIES];
  uint64_t current_total, peak_total;
} frugal_memory_stats;

FRUGAL_API frugal_status frugal_alloc(int32_t device, uint64_t bytes, frugal_mem_category category, void** out);
FRUGAL_API frugal_status frugal_free(int32_t device, void* ptr);
FRUGAL_API frugal_status frugal_get_memory_stats(int32_t device, frugal_memory_stats* out);
FRUGAL_API frugal_status frugal_reset_peak_memory(int32_t device);
FRUGAL_API frugal_status frugal_copy(void* dst, int32_t dst_device, const void* src, int32_t src_device, uint64_t bytes,
                                     void* stream);
FRUGAL_API frugal_status frugal_fill(int32_t device, void* ptr, frugal_dtype dtype, uint64_t count, float value,
                                     void* stream);
/* dist 0: uniform in [a, b); dist 1: normal(mean a, std b). Same seed, same values on every device. */
FRUGAL_API frugal_status frugal_random(int32_t device, void* ptr, frugal_dtype dtype, uint64_t count, int32_t dist,
                                       uint64_t seed, float a, float b, void* stream);
FRUGAL_API frugal_status frugal_cast(int32_t device, const void* src, frugal_dtype src_dtype, void* dst,
                                     frugal_dtype dst_dtype, uint64_t count, void* stream);

/* ---- optimizers ---- */
typedef enum {
  FRUGAL_RULE_NONE = 0, FRUGAL_RULE_ADAMW = 1, FRUGAL_RULE_SGDM = 2, FRUGAL_RULE_SIGN = 3, FRUGAL_RULE_SGD = 4,
  /* State-free value only, selection BLOCKS only (BAdam): the unselected part is not touched at
     all, decay included. NONE instead gives the unselected part the decoupled decay alone. */
  FRUGAL_RULE_FREEZE = 5
} frugal_rule;

typedef enum {
  FRUGAL_SEL_ALL = 0,         /* every element state-full (plain AdamW / SGDM) */
  FRUGAL_SEL_NONE = 1,        /* nothing state-full (plain signSGD / SGD) */
  FRUGAL_SEL_BLOCKS = 2,      /* whole tensors of the group (FRUGAL default, BAdam) */
  FRUGAL_SEL_COLUMNS = 3,
  FRUGAL_SEL_ROWS = 4,
  FRUGAL_SEL_COORDINATES = 5,
  FRUGAL_SEL_SVD = 6,         /* top singular vectors of the gradient (GaLore) */
  FRUGAL_SEL_RANDOM_ORTHO = 7,
  FRUGAL_SEL_RANDPERM = 8,
  FRUGAL_SEL_GRASS = 9        /* structured sparse rows/columns by norm (Grass) */
} frugal_selection;

/* RANDOM: a fresh random subset at every refresh (FRUGAL's BlockOptimizer). RANDOM_CYCLE: one random
   permutation per cycle, walked count at a time, so each block is state-full once per cycle (BAdam).
   MIRROR: pairs i and N-1-i for i = 0, 1, ... N/2-1, wrapping (FRUGAL); needs an even count. */
typedef enum { FRUGAL_ORDER_DESCENDING = 0, FRUGAL_ORDER_ASCENDING = 1, FRUGAL_ORDER_MIRROR = 2,
               FRUGAL_ORDER_RANDOM = 3, FRUGAL_ORDER_RANDOM_CYCLE = 4 } frugal_block_order;
typedef enum { FRUGAL_SIDE_STD = 0, FRUGAL_SIDE_REVERSE_STD = 1, FRUGAL_SIDE_LEFT = 2, FRUGAL_SIDE_RIGHT = 3 }
    frugal_side;
typedef enum { FRUGAL_GRASS_TOP_R = 0, FRUGAL_GRASS_NORM = 1, FRUGAL_GRASS_UNIFORM = 2 } frugal_grass_sampling;
typedef enum { FRUGAL_EPS_TORCH = 0, FRUGAL_EPS_HF = 1 } frugal_eps_mode;

typedef struct {
  /* common */
  float lr;                     /* > 0 */
  float weight_decay;           /* decoupled: p *= 1 - lr * weight_decay, on every param, first */
  /* state-full rule */
  frugal_rule state_full;       /* ADAMW or SGDM (ALL/NONE selections: any rule) */
  float beta1, beta2, eps;      /* Adam */
  int32_t bias_correction;      /* 1: bias-corrected Adam */
  frugal_eps_mode eps_mode;     /* TORCH: m_hat/(sqrt(v_hat)+eps); HF: reference's eps before correction */
  float momentum, dampening;    /* SGDM */
  int32_t nesterov;
  float l2;                     /* SGD-style coupled weight decay, added to the gradient */
  float state_full_lr_scale;    /* lr_sf = lr * scale (GaLore's scale, Grass's alpha) */
  frugal_dtype state_dtype;     /* F32 or BF16 moments */
  /* state-free rule on the residual: g - P P^T g for dense bases (SVD, random, randperm); for line
     and coordinate selections (blocks, rows, columns, coordinates, Grass) g with the selected lines
     zeroed, also when Grass scales rho != 1 (then that is not g - P P^T g: the residual is what the
     state-full part did not take, and no line is updated by both rules) */
  frugal_rule state_free;       /* NONE, SIGN or SGD */
  float state_free_lr_scale;    /* lr_free = lr * state_full_lr_scale * state_free_lr_scale */
  /* selection */
  frugal_selection selection;
  double density;               /* [0, 1]; a double, so int(len * density) rounds as the reference's Python floats do.
                                   0: nothing state-full, the state-free rule alone on projectable params.
                                   Dense bases: rank round(len * density) of the projected side's length
                                   (left: rows, right: cols), capped at min(rows, cols) */
  int32_t rank;                 /* > 0 overrides density for SVD / random / randperm / GRASS */
  int32_t update_gap;           /* T >= 1: re-choose at steps 0, T, 2T, ... */
  int32_t reset_statistics;     /* zero moments and restart bias correction at each refresh; off, rows /
                                   columns / coordinates / GRASS keep a step counter per selected line
                                   (state tensor "slot_step"): restarted for a line that enters, carried
                                   for one that stays */
  int32_t external_selection;   /* the caller supplies each refresh via frugal_optimizer_set_selection */
  frugal_block_order block_order;
  frugal_side side;             /* SVD / dense: which side is projected; GRASS: STD, LEFT = rows, RIGHT = cols */
  int32_t randomized_svd;       /* SVD by randomized range finder instead of exact */
  frugal_grass_sampling grass_sampling;
  int32_t grass_replacement;    /* sampling with replacement */
  uint64_t seed;
} frugal_group_options;

/* Defaults: lr 1e-3, AdamW betas (0.9, 0.999), eps 1e-8, bias correction, no decay,
   selection ALL, density 1, T 200, reset on, scales 1, fp32 state. */
FRUGAL_API void frugal_group_options_default(frugal_group_options* out);

typedef struct frugal_optimizer frugal_optimizer;

typedef struct {
  void* data;                   /* parameter buffer, updated in place */
  frugal_dtype dtype;
  void* grad;                   /* gradient buffer (may be NULL until set) */
  frugal_dtype grad_dtype;
  int32_t ndim;
  int64_t shape[FRUGAL_MAX_DIMS];
  int32_t block_id;             /* BLOCKS: params sharing an id > 0 form one block (BAdam's layer);
                                   0: the param is a block of its own */
} frugal_param_desc;

FRUGAL_API frugal_status frugal_optimizer_create(int32_t device, frugal_optimizer** out);
FRUGAL_API frugal_status frugal_optimizer_destroy(frugal_optimizer* opt);
FRUGAL_API frugal_status frugal_optimizer_add_group(frugal_optimizer* opt, const frugal_group_options* options,
                                                    int32_t* group_index);
FRUGAL_API frugal_status frugal_optimizer_set_group_options(frugal_optimizer* opt, int32_t group,
                                                            const frugal_group_options* options);
FRUGAL_API frugal_status frugal_optimizer_add_param(frugal_optimizer* opt, int32_t group, const frugal_param_desc* desc,
                                                    int32_t* param_index);
/* Point a parameter at new data / gradient buffers (same shape and dtypes). Refused
   (FRUGAL_ERR_INVALID_ARGUMENT) when data overlaps another param's data, or grad overlaps any
   param's data, as held at the time of the call: to swap two params' buffers, point one at a
   third buffer first (the check runs per call, not per step). */
FRUGAL_API frugal_status frugal_optimizer_set_buffers(frugal_optimizer* opt, int32_t param, void* data, void* grad);
/* Grass compressed-gradient path: the next step of this param reads gc (k x n for rows, m x k for
   columns, already scaled by rho) instead of the full gradient. Only valid when the step is not a
   refresh. Pass NULL to go back to the full gradient. dtype may differ from the param's: F32 for a
   BF16 / F16 param keeps rho * g unrounded, so the step equals the full-gradient one bit for bit
   (a half-precision gc is rounded once more where rho != 1). */
FRUGAL_API frugal_status frugal_optimizer_set_compressed_grad(frugal_optimizer* opt, int32_t param, const void* gc,
                                                              frugal_dtype dtype);
/* Global gradient-norm clipping before the next steps (max_norm <= 0 disables); computed on the device.
   A param stepped from a compressed gradient contributes the norm of Gc as handed in, not of the
   full G it came from (which the library never sees): pass the full norm yourself by scaling if
   the two paths must clip alike. */
FRUGAL_API frugal_status frugal_optimizer_set_clip(frugal_optimizer* opt, float max_norm);
FRUGAL_API frugal_status frugal_optimizer_step(frugal_optimizer* opt, void* stream);

/* Whether the next step of this param's group re-chooses the selection (and needs the full gradient). */
FRUGAL_API frugal_status frugal_optimizer_needs_refresh(frugal_optimizer* opt, int32_t param, int32_t* out);
/* Caller-supplied selection for the next refresh. BLOCKS: count = 1, indices[0] = 1 active / 0 inactive.
   COLUMNS / ROWS / GRASS: line indices; COORDINATES: flat element indices. scales (GRASS) may be NULL. */
FRUGAL_API frugal_status frugal_optimizer_set_selection(frugal_optimizer* opt, int32_t param, const int32_t* indices,
                                                        int64_t count, const float* scales);
/* The selection in force: for index selections its count, indices (host copy) and scales; axis 0 rows, 1 cols, 2 coords. */
typedef struct {
  int32_t kind;                 /* frugal_selection */
  int32_t active;               /* BLOCKS: whether state-full */
  int32_t axis;
  int64_t count;                /* number of indices / rank */
  const int32_t* indices_device;/* device (or host for CPU) int32 index tensor, owned by the optimizer */
  const float* scales_device;   /* device fp32 scales (GRASS) or NULL */
} frugal_selection_info;
FRUGAL_API frugal_status frugal_optimizer_get_selection(frugal_optimizer* opt, int32_t param, frugal_selection_info* out);

/* Optimizer state bytes: of one param, or of all with param = -1. */
FRUGAL_API frugal_status frugal_optimizer_state_bytes(frugal_optimizer* opt, int32_t param, uint64_t* out);

/* State access for checkpoints: each param has named state tensors (fp32 or bf16 on its device). */
typedef struct {
  char name[32];                /* "exp_avg", "exp_avg_sq", "momentum_buffer", "indices", "scales", "mask", "basis",
                                   "slot_step" (int32 step counter per selected line without resets) */
  void* data;
  frugal_dtype dtype;
  int64_t count;
} frugal_state_tensor;
typedef struct {
  int64_t step;                 /* steps taken by this param */
  int64_t state_step;           /* steps since the last reset (bias correction) */
  int32_t active;               /* BLOCKS */
  int32_t kind;
  int32_t axis;
  int64_t selection_count;
} frugal_param_counters;
FRUGAL_API frugal_status frugal_optimizer_state_tensors(frugal_optimizer* opt, int32_t param, frugal_state_tensor* out,
                                                        int32_t capacity, int32_t* count);
FRUGAL_API frugal_status frugal_optimizer_get_counters(frugal_optimizer* opt, int32_t param, frugal_param_counters* out);
/* Restore a param's counters and selection shape; allocates its state tensors (zeroed, indices and
   basis included) for the caller to fill through frugal_optimizer_state_tensors. */
FRUGAL_API frugal_status frugal_optimizer_restore_param(frugal_optimizer* opt, int32_t param,
                                                        const frugal_param_counters* counters);
/* Checks a restored param's state once the caller has filled it: indices within the param's lines
   and repeated only where the selection allows; rebuilds the mask from them. Syncs. A step checks
   any param not yet checked, so a corrupt checkpoint is an error, never a wild write. */
FRUGAL_API frugal_status frugal_optimizer_verify_state(frugal_optimizer* opt, int32_t param, void* stream);
/* Group step counter and the selection RNG state (4 words). */
FRUGAL_API frugal_status frugal_optimizer_get_group_state(frugal_optimizer* opt, int32_t group, int64_t* step,
                                                          uint64_t rng[4]);
FRUGAL_API frugal_status frugal_optimizer_set_group_state(frugal_optimizer* opt, int32_t group, int64_t step,
                                                          const uint64_t rng[4]);

/* What a step does when a gradient holds NaN or Inf (torch: error_if_nonfinite / found-inf skipping).
   PROPAGATE (the default): nothing is checked; the non-finite values reach the params.
   SKIP: the step is a no-op for every param and moment, decided on the device without a host sync
     (the gradients are reduced each step, as for clipping, and every update kernel reads the flag),
     and counted (frugal_optimizer_skipped_steps). The host does not learn of it, so the step,
     state-step (bias correction) and refresh counters advance as for any step; only a step due to
     refresh reads the flag (one sync, as refreshes sync anyway) and, when skipped, changes nothing
     at all: no refresh, no counter, so the refresh is retried at the next step.
   ERROR: the step fails with FRUGAL_ERR_INVALID_ARGUMENT naming every param with a non-finite
     gradient, before any state changes; costs one host sync per step. */
typedef enum { FRUGAL_NONFINITE_PROPAGATE = 0, FRUGAL_NONFINITE_SKIP = 1, FRUGAL_NONFINITE_ERROR = 2 } frugal_nonfinite;
FRUGAL_API frugal_status frugal_optimizer_set_nonfinite(frugal_optimizer* opt, int32_t policy);
/* Steps skipped under FRUGAL_NONFINITE_SKIP (a device counter: syncs `stream`); set restores it. */
FRUGAL_API frugal_status frugal_optimizer_skipped_steps(frugal_optimizer* opt, void* stream, int64_t* out);
FRUGAL_API frugal_status frugal_optimizer_set_skipped_steps(frugal_optimizer* opt, int64_t count, void* stream);

#ifdef __cplusplus
}
#endif
#endif
