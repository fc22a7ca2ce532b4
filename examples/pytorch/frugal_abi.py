"""libfrugal's C ABI for ctypes: frugal.h's enums and option structs at ABI version 2, and the
library loader. No torch here: test/pytorch-example.test.ts checks these layouts against frugal.h
with plain Python, torch or not.

frugal.h's structs carry their own size and the library reads only the fields a caller's layout
has (defaulting the rest), so these ABI-2 definitions keep working against later libraries that
append fields.
"""

import ctypes
import os

# frugal.h enums (ABI 2).
F32, BF16, F16 = 0, 1, 2
RULE_NONE, RULE_ADAMW, RULE_SGDM, RULE_SIGN, RULE_SGD = 0, 1, 2, 3, 4
SEL_ALL, SEL_BLOCKS, SEL_GRASS = 0, 2, 9
ORDER = {"descending": 0, "ascending": 1, "mirror": 2, "random": 3, "random_cycle": 4}
GRASS_SAMPLING = {"top-r": 0, "norm": 1, "uniform": 2}
FRUGAL_CPU = -1
MAX_DIMS = 8

class GroupOptions(ctypes.Structure):
    """frugal_group_options at ABI 2 (field order and types as frugal.h)."""

    _fields_ = [
        ("size", ctypes.c_uint32),
        ("lr", ctypes.c_float),
        ("weight_decay", ctypes.c_float),
        ("state_full", ctypes.c_int32),
        ("beta1", ctypes.c_float),
        ("beta2", ctypes.c_float),
        ("eps", ctypes.c_float),
        ("bias_correction", ctypes.c_int32),
        ("eps_mode", ctypes.c_int32),
        ("momentum", ctypes.c_float),
        ("dampening", ctypes.c_float),
        ("nesterov", ctypes.c_int32),
        ("l2", ctypes.c_float),
        ("state_full_lr_scale", ctypes.c_float),
        ("state_dtype", ctypes.c_int32),
        ("state_free", ctypes.c_int32),
        ("state_free_lr_scale", ctypes.c_float),
        ("selection", ctypes.c_int32),
        ("density", ctypes.c_double),
        ("rank", ctypes.c_int32),
        ("update_gap", ctypes.c_int32),
        ("reset_statistics", ctypes.c_int32),
        ("external_selection", ctypes.c_int32),
        ("block_order", ctypes.c_int32),
        ("side", ctypes.c_int32),
        ("randomized_svd", ctypes.c_int32),
        ("grass_sampling", ctypes.c_int32),
        ("grass_replacement", ctypes.c_int32),
        ("seed", ctypes.c_uint64),
    ]


class ParamDesc(ctypes.Structure):
    """frugal_param_desc at ABI 2."""

    _fields_ = [
        ("size", ctypes.c_uint32),
        ("data", ctypes.c_void_p),
        ("dtype", ctypes.c_int32),
        ("grad", ctypes.c_void_p),
        ("grad_dtype", ctypes.c_int32),
        ("ndim", ctypes.c_int32),
        ("shape", ctypes.c_int64 * MAX_DIMS),
        ("block_id", ctypes.c_int32),
    ]


class FrugalError(RuntimeError):
    """A libfrugal call failed; the message is frugal_last_error()'s."""


def load_library(path=None):
    """Loads libfrugal (path, or $FRUGAL_LIB) and declares the entries this module calls."""
    path = path or os.environ.get("FRUGAL_LIB")
    if not path:
        raise ValueError("load_library: pass the path of libfrugal.so (build/Release/libfrugal.so) or set FRUGAL_LIB")
    lib = ctypes.CDLL(path)
    vp, i32, i64 = ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64
    sigs = {
        "frugal_last_error": (ctypes.c_char_p, []),
        "frugal_version": (ctypes.c_char_p, []),
        "frugal_abi_version": (i32, []),
        "frugal_group_options_init": (None, [ctypes.POINTER(GroupOptions), ctypes.c_uint32]),
        "frugal_param_desc_init": (None, [ctypes.POINTER(ParamDesc), ctypes.c_uint32]),
        "frugal_optimizer_create": (i32, [i32, ctypes.POINTER(vp)]),
        "frugal_optimizer_destroy": (i32, [vp]),
        "frugal_optimizer_add_group": (i32, [vp, ctypes.POINTER(GroupOptions), ctypes.POINTER(i32)]),
        "frugal_optimizer_add_param": (i32, [vp, i32, ctypes.POINTER(ParamDesc), ctypes.POINTER(i32)]),
        "frugal_optimizer_set_buffers": (i32, [vp, i32, vp, vp]),
        "frugal_optimizer_step": (i32, [vp, vp]),
        "frugal_optimizer_state_bytes": (i32, [vp, i32, ctypes.POINTER(ctypes.c_uint64)]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    if lib.frugal_abi_version() < 2:
        raise FrugalError(f"{path}: ABI {lib.frugal_abi_version()}, this module needs 2 or newer")
    return lib


def check(lib, status, what):
    """Raises FrugalError with frugal_last_error() when a call returned a non-zero status."""
    if status != 0:
        raise FrugalError(f"{what}: {lib.frugal_last_error().decode()} (status {status})")


def layout():
    """{struct: {"size": bytes, "fields": {name: offset}}}: what test/pytorch-example.test.ts holds
    against offsetof() in frugal.h."""
    return {
        cls.__name__: {"size": ctypes.sizeof(cls), "fields": {name: getattr(cls, name).offset for name, _ in cls._fields_}}
        for cls in (GroupOptions, ParamDesc)
    }


if __name__ == "__main__":
    import json
    import sys

    if sys.argv[1:] != ["--layout"]:
        sys.exit("usage: python3 frugal_abi.py --layout")
    print(json.dumps(layout()))
