"""Times PyTorch optimizer steps on the LLaMA presets' parameters, on the GPU (or the CPU), for
comparison with `npm run bench` (same shapes, same method keys, same JSON schema):
  - torch.optim.AdamW with fused=True and with foreach=True ('adamw'), SGD with momentum ('sgdm');
    a torch without a fused AdamW for the device is noted under "skipped";
  - FRUGAL (blocks, columns, SVD), GaLore and Grass (top-r, norm sampling) as per-parameter
    PyTorch code (reference_methods.py), ordinary steps and refresh steps timed separately.
Usage: python3 bench/torch/step_bench.py [--device cuda|cpu] [--preset 60m,1b] [--dtype float32,bfloat16]
           [--reps 30] [--out DIR|FILE.json]
Then:  node dist/cjs/bench/compare.js <ours.json> <torch.json>
On the CPU, torch runs on every core (torch.set_num_threads(os.cpu_count())), as our CPU backend does.
Note: torch.optim keeps AdamW/SGD moments in the parameter's dtype (bf16 for bf16 weights);
frugal-optim and reference_methods.py keep them in fp32."""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (LLAMA_PRESETS, Model, copy_bandwidth_gbs, llama_shapes, row, synchronize,  # noqa: E402
                    time_ms, write_results)
from reference_methods import REFERENCE_METHODS  # noqa: E402

NO_REFRESH = 1 << 30
UPDATE_GAP = 200


def optimizer_state_bytes(opt):
    return sum(t.numel() * t.element_size() for s in opt.state.values() for t in s.values() if torch.is_tensor(t) and t.dim() > 0)


class Unsupported(Exception):
    """This torch cannot run the configuration on this device (e.g. no fused AdamW for the CPU)."""


def release(device):
    if device == "cuda":
        torch.cuda.empty_cache()


def bench_torch_optim(name, impl, make, model, args):
    try:
        opt = make(model.params)
        opt.step()
    except (TypeError, RuntimeError) as e:  # an unknown keyword, or a kernel missing for the device
        if "out of memory" in str(e):
            raise
        raise Unsupported(f"torch {torch.__version__} on {model.device}: {str(e).splitlines()[0]}") from e
    synchronize(model.device)
    state = optimizer_state_bytes(opt)
    t = time_ms(opt.step, args.warmup, args.reps, args.inner, model.device)
    del opt
    release(model.device)
    return row(name, impl, model, t, None, None, state, args.reps)


def bench_reference(name, cls, model, args):
    opt = cls(model, NO_REFRESH)
    opt.step()  # the first refresh
    synchronize(model.device)
    state = opt.state_bytes()
    step = time_ms(opt.step, args.warmup, args.reps, args.inner, model.device)
    del opt
    every = cls(model, 1)
    every.step()
    refresh = time_ms(every.step, 0, args.refresh_reps, 1, model.device)
    del every
    release(model.device)
    return row(name, "torch-reference", model, step, max(0.0, refresh[0] - step[0]), UPDATE_GAP, state, args.reps)


def blas_library():
    """The BLAS this process loaded (Debian's torch takes whichever libblas.so.3 is installed)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return ", ".join(sorted(libs)) or "none loaded"
    except OSError:
        return "unknown"


def free_bytes(device):
    if device == "cuda":
        return torch.cuda.mem_get_info()[0]
    with open("/proc/meminfo") as f:
        info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
    return info.get("MemAvailable", 0)


def fits(preset, dtype, device):
    """Weights + grads with room to spare; each method that then runs out of memory is skipped alone."""
    n = sum(torch.Size(s).numel() for _n, s, _p, _u in llama_shapes(preset))
    need = n * 2 * (4 if dtype == "float32" else 2)
    return need < (0.8 if device == "cuda" else 0.3) * free_bytes(device), need


def out_of_memory(e):
    return isinstance(e, getattr(torch.cuda, "OutOfMemoryError", ())) or "out of memory" in str(e).lower() \
        or isinstance(e, MemoryError)


def attempt(label, skipped, device, fn, *fn_args):
    """fn(*fn_args), or a note in `skipped` and None when the device runs out of memory or this
    torch cannot run the configuration."""
    try:
        return fn(*fn_args)
    except Unsupported as e:
        skipped.append(f"{label} ({e})")
        return None
    except (RuntimeError, MemoryError) as e:
        if not out_of_memory(e):
            raise
        skipped.append(f"{label} (out of memory)")
        release(device)
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=("cuda", "cpu"), default=None,
                    help="default: cuda when torch sees a GPU, else cpu (then the 60m preset and CPU-sized counts)")
    ap.add_argument("--dtype", default="float32,bfloat16")
    ap.add_argument("--methods", default="adamw,sgdm," + ",".join(REFERENCE_METHODS))
    # Defaults as `npm run bench`: a GPU gets every preset and many samples, the CPU 60m and a few.
    ap.add_argument("--preset", default=None, help="default: 60m,130m,350m,1b,7b on a GPU; 60m on the CPU")
    ap.add_argument("--reps", type=int, default=None, help="default: 30 on a GPU, 5 on the CPU")
    ap.add_argument("--warmup", type=int, default=None, help="default: 5 on a GPU, 1 on the CPU")
    ap.add_argument("--inner", type=int, default=None, help="default: 10 on a GPU, 1 on the CPU")
    ap.add_argument("--refresh-reps", type=int, default=None, help="default: 5 on a GPU, 2 on the CPU")
    ap.add_argument("--out", default="bench/results", help="a folder (torch-<device>-<date>.json inside) or a .json path")
    args = ap.parse_args()
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("step_bench.py: --device cuda: torch sees no CUDA GPU")
    gpu = device == "cuda"
    defaults = {"preset": "60m,130m,350m,1b,7b" if gpu else "60m", "reps": 30 if gpu else 5,
                "warmup": 5 if gpu else 1, "inner": 10 if gpu else 1, "refresh_reps": 5 if gpu else 2}
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    for k in ("reps", "inner", "refresh_reps"):
        if getattr(args, k) < 1:
            sys.exit(f"step_bench.py: --{k.replace('_', '-')}: expected an integer >= 1")
    methods = args.methods.split(",")
    rows, copy_bw, skipped = [], {}, []
    if gpu:
        torch.backends.cuda.matmul.allow_tf32 = False  # fp32 GEMMs, as cuBLAS runs ours
    else:
        torch.set_num_threads(os.cpu_count() or 1)  # our CPU backend uses every core
    with torch.no_grad():
        for preset in args.preset.split(","):
            if preset not in LLAMA_PRESETS:
                sys.exit(f"step_bench.py: --preset: unknown '{preset}' (expected one of {', '.join(LLAMA_PRESETS)})")
            for dtype in args.dtype.split(","):
                ok, need = fits(preset, dtype, device)
                if not ok:
                    skipped.append(f"{preset} {dtype} (needs {need / 2**30:.1f} GiB)")
                    continue
                print(f"{preset} {dtype}", file=sys.stderr)
                model = Model(preset, dtype, device)
                copy_bw[f"{preset}/{dtype}"] = copy_bandwidth_gbs(model)
                # (label, run(model) -> row): the model is passed in, so nothing else holds it after `del`.
                runs = []
                if "adamw" in methods:
                    for impl, kw in (("torch-fused", {"fused": True}), ("torch-foreach", {"foreach": True})):
                        runs.append((f"adamw {impl}", lambda m, impl=impl, kw=kw: bench_torch_optim(
                            "adamw", impl, lambda ps: torch.optim.AdamW(ps, lr=1e-4, weight_decay=0.0, **kw), m, args)))
                if "sgdm" in methods:
                    runs.append(("sgdm torch-foreach", lambda m: bench_torch_optim(
                        "sgdm", "torch-foreach", lambda ps: torch.optim.SGD(ps, lr=1e-4, momentum=0.9, foreach=True),
                        m, args)))
                for name, cls in REFERENCE_METHODS.items():
                    if name in methods:
                        runs.append((name, lambda m, name=name, cls=cls: bench_reference(name, cls, m, args)))
                for label, run in runs:
                    print(f"  {label}", file=sys.stderr)
                    r = attempt(f"{preset} {dtype} {label}", skipped, device, run, model)
                    if r is not None:
                        rows.append(r)
                del model
                release(device)
    config = {"device": device, "presets": args.preset, "dtypes": args.dtype, "reps": args.reps,
              "warmup": args.warmup, "inner": args.inner, "refreshReps": args.refresh_reps, "skipped": skipped,
              "threads": torch.get_num_threads(), "blas": blas_library(),
              "stateDtype": "torch.optim: the param dtype; reference methods: float32"}
    path = write_results(args.out, rows, copy_bw, config, device)
    for r in rows:
        print(f"{r['preset']:5} {r['dtype']:9} {r['method']:15} {r['impl']:16} {r['stepMs']:10.3f} ms"
              f"  refresh {r['refreshMs'] if r['refreshMs'] is not None else '-'}")
    for s in skipped:
        print("skipped:", s)
    print("wrote", path)


if __name__ == "__main__":
    main()
