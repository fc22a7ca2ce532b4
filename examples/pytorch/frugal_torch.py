"""frugal-optim from PyTorch through the C API (libfrugal, frugal.h) and ctypes.

`FrugalOptimizer` is a torch.optim.Optimizer whose step() hands libfrugal the addresses of each
param's storage and gradient (`tensor.data_ptr()`): the update happens in place, in libfrugal's
CPU loops or CUDA kernels, on torch's current stream for CUDA tensors. No copy, no Node.

    from frugal_torch import FrugalOptimizer, load_library
    lib = load_library("build/Release/libfrugal.so")
    opt = FrugalOptimizer(model.parameters(), lib, method="frugal", lr=1e-3, density=0.25)
    loss.backward(); opt.step(); opt.zero_grad()

Methods (as the Node API's classes of the same names, lib/optim/):
  adamw   AdamW on every param.
  frugal  FRUGAL: AdamW on a selected part (whole matrices, `density` of them, re-chosen every
          `update_gap` steps, `block_order`), signSGD on the rest; params that are not matrices
          follow plain AdamW (as the Node API's `projectable` split does).
  grass   Grass: Adam on `rank` (or density x rows) rows of each matrix chosen by norm, the update
          scattered back times `alpha`; other params plain AdamW.

The C ABI (enums, structs, loader) is in frugal_abi.py.
"""

import ctypes

import torch

from frugal_abi import (BF16, F16, F32, FRUGAL_CPU, GRASS_SAMPLING, MAX_DIMS, ORDER, RULE_ADAMW, RULE_NONE, RULE_SGD,
                        RULE_SIGN, SEL_BLOCKS, SEL_GRASS, GroupOptions, ParamDesc, check as _check, load_library)

_DTYPES = {torch.float32: F32, torch.bfloat16: BF16, torch.float16: F16}

__all__ = ["FrugalOptimizer", "load_library"]



class FrugalOptimizer(torch.optim.Optimizer):
    """A torch optimizer stepping through libfrugal. See the module docstring for the methods.

    Every param must have a gradient at each step (a param without one is an error, not skipped:
    a skipped param would still decay and age its moments in libfrugal's groups). Params and
    gradients must be contiguous float32 / bfloat16 / float16 tensors on one device.
    """

    METHODS = ("adamw", "frugal", "grass")

    def __init__(self, params, lib, method="adamw", lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 density=0.25, update_gap=200, block_order="descending", state_free="signsgd", rank=0,
                 alpha=0.25, sampling="top-r", seed=0):
        if method not in self.METHODS:
            raise ValueError(f"method: expected one of {', '.join(self.METHODS)}, got {method!r}")
        if block_order not in ORDER:
            raise ValueError(f"block_order: expected one of {', '.join(ORDER)}, got {block_order!r}")
        if sampling not in GRASS_SAMPLING:
            raise ValueError(f"sampling: expected one of {', '.join(GRASS_SAMPLING)}, got {sampling!r}")
        free = {"signsgd": RULE_SIGN, "sgd": RULE_SGD, "none": RULE_NONE}
        if state_free not in free:
            raise ValueError(f"state_free: expected one of {', '.join(free)}, got {state_free!r}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, density=density,
                        update_gap=update_gap, block_order=block_order, state_free=state_free, rank=rank,
                        alpha=alpha, sampling=sampling, seed=seed)
        super().__init__(params, defaults)
        self.lib = lib
        self.method = method
        self._free_rules = free
        self._handle = None
        self._device = None
        self._records = []  # (torch param, native index, its group's native group indices)
        self._build()

    # -- building the native optimizer -------------------------------------------------------

    def _options(self, group, part):
        o = GroupOptions()
        self.lib.frugal_group_options_init(ctypes.byref(o), ctypes.sizeof(GroupOptions))
        o.lr = group["lr"]
        o.weight_decay = group["weight_decay"]
        o.beta1, o.beta2 = group["betas"]
        o.eps = group["eps"]
        o.state_full = RULE_ADAMW
        o.seed = group["seed"]
        if part == "projected" and self.method == "frugal":
            o.selection = SEL_BLOCKS
            o.density = group["density"]
            o.update_gap = group["update_gap"]
            o.block_order = ORDER[group["block_order"]]
            o.state_free = self._free_rules[group["state_free"]]
        elif part == "projected" and self.method == "grass":
            o.selection = SEL_GRASS
            o.density = group["density"]
            o.rank = group["rank"]
            o.update_gap = group["update_gap"]
            o.grass_sampling = GRASS_SAMPLING[group["sampling"]]
            o.state_full_lr_scale = group["alpha"]
            o.state_free = RULE_NONE
        return o

    def _desc(self, p):
        if p.dtype not in _DTYPES:
            raise TypeError(f"param of dtype {p.dtype}: expected float32, bfloat16 or float16")
        if not p.is_contiguous():
            raise ValueError("param: expected a contiguous tensor (libfrugal updates its storage in place)")
        if p.dim() > MAX_DIMS:
            raise ValueError(f"param with {p.dim()} dims: at most {MAX_DIMS}")
        d = ParamDesc()
        self.lib.frugal_param_desc_init(ctypes.byref(d), ctypes.sizeof(ParamDesc))
        d.data = p.data_ptr()
        d.dtype = _DTYPES[p.dtype]
        d.grad = None
        d.grad_dtype = _DTYPES[p.dtype]
        d.ndim = p.dim()
        for i, n in enumerate(p.shape):
            d.shape[i] = n
        return d

    def _build(self):
        devices = {p.device for g in self.param_groups for p in g["params"]}
        if len(devices) != 1:
            raise ValueError(f"params: expected tensors on one device, got {sorted(str(d) for d in devices)}")
        self._device = devices.pop()
        ordinal = FRUGAL_CPU if self._device.type == "cpu" else self._device.index or 0
        handle = ctypes.c_void_p()
        _check(self.lib, self.lib.frugal_optimizer_create(ordinal, ctypes.byref(handle)), "frugal_optimizer_create")
        self._handle = handle
        for group in self.param_groups:
            # As the Node API: under a projection, matrices form the projected group and every
            # other param a plain AdamW group (unscaled lr), in that order.
            parts = {"whole": [], "projected": [], "regular": []}
            for p in group["params"]:
                if self.method == "adamw":
                    parts["whole"].append(p)
                else:
                    parts["projected" if p.dim() == 2 else "regular"].append(p)
            for part, members in parts.items():
                if not members:
                    continue
                gi = ctypes.c_int32()
                o = self._options(group, part)
                _check(self.lib, self.lib.frugal_optimizer_add_group(handle, ctypes.byref(o), ctypes.byref(gi)),
                       "frugal_optimizer_add_group")
                for p in members:
                    pi = ctypes.c_int32()
                    d = self._desc(p)
                    _check(self.lib, self.lib.frugal_optimizer_add_param(handle, gi.value, ctypes.byref(d), ctypes.byref(pi)),
                           "frugal_optimizer_add_param")
                    self._records.append({"param": p, "index": pi.value, "data": None, "grad": None})

    # -- stepping ----------------------------------------------------------------------------

    def _stream(self):
        if self._device.type != "cuda":
            return None
        return ctypes.c_void_p(torch.cuda.current_stream(self._device).cuda_stream)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for r in self._records:
            p = r["param"]
            if p.grad is None:
                raise ValueError(f"param {r['index']}: has no gradient (FrugalOptimizer steps every param)")
            g = p.grad
            if g.dtype != p.dtype or not g.is_contiguous() or g.shape != p.shape:
                raise ValueError(f"param {r['index']}: its gradient must be a contiguous {p.dtype} tensor of its shape")
            # set_to_none zero_grad makes a new gradient tensor each backward: point libfrugal at it.
            if r["data"] != p.data_ptr() or r["grad"] != g.data_ptr():
                _check(self.lib, self.lib.frugal_optimizer_set_buffers(self._handle, r["index"], p.data_ptr(), g.data_ptr()),
                       "frugal_optimizer_set_buffers")
                r["data"], r["grad"] = p.data_ptr(), g.data_ptr()
        _check(self.lib, self.lib.frugal_optimizer_step(self._handle, self._stream()), "frugal_optimizer_step")
        return loss

    def state_bytes(self):
        """Bytes of optimizer state libfrugal holds for these params."""
        out = ctypes.c_uint64()
        _check(self.lib, self.lib.frugal_optimizer_state_bytes(self._handle, -1, ctypes.byref(out)),
               "frugal_optimizer_state_bytes")
        return out.value

    def state_dict(self):
        raise NotImplementedError("FrugalOptimizer keeps its state in libfrugal; checkpoints go through the Node API "
                                  "or frugal_optimizer_state_tensors (frugal.h), not torch's state_dict")

    def load_state_dict(self, state_dict):
        raise NotImplementedError("FrugalOptimizer: see state_dict")

    def close(self):
        """Frees libfrugal's optimizer (its state); the params are the caller's and stay."""
        if self._handle is not None:
            self.lib.frugal_optimizer_destroy(self._handle)
            self._handle = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass

