"""Times PyTorch optimizer steps on the LLaMA presets' parameters, on the GPU, for comparison
with `npm run bench` (same shapes, same method keys, same JSON schema):
  - torch.optim.AdamW with fused=True and with foreach=True ('adamw'), SGD with momentum ('sgdm');
  - FRUGAL (blocks, columns, SVD), GaLore and Grass (top-r, norm sampling) as per-parameter
    PyTorch code (reference_methods.py), ordinary steps and refresh steps timed separately.
Usage: python3 bench/torch/step_bench.py [--preset 60m,1b] [--dtype float32,bfloat16] [--reps 30] [--out DIR|FILE.json]
Then:  node dist/cjs/bench/compare.js <ours.json> <torch.json>
Note: torch.optim keeps AdamW/SGD moments in the parameter's dtype (bf16 for bf16 weights);
frugal-optim and reference_methods.py keep them in fp32."""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import LLAMA_PRESETS, Model, copy_bandwidth_gbs, llama_shapes, row, time_ms, write_results  # noqa: E402
from reference_methods import REFERENCE_METHODS  # noqa: E402

NO_REFRESH = 1 << 30
UPDATE_GAP = 200


def optimizer_state_bytes(opt):
    return sum(t.numel() * t.element_size() for s in opt.state.values() for t in s.values() if torch.is_tensor(t) and t.dim() > 0)


def bench_torch_optim(name, impl, make, model, args):
    opt = make(model.params)
    opt.step()
    torch.cuda.synchronize()
    state = optimizer_state_bytes(opt)
    t = time_ms(opt.step, args.warmup, args.reps, args.inner)
    del opt
    torch.cuda.empty_cache()
    return row(name, impl, model, t, None, None, state, args.reps)


def bench_reference(name, cls, model, args):
    opt = cls(model, NO_REFRESH)
    opt.step()  # the first refresh
    torch.cuda.synchronize()
    state = opt.state_bytes()
    step = time_ms(opt.step, args.warmup, args.reps, args.inner)
    del opt
    every = cls(model, 1)
    every.step()
    refresh = time_ms(every.step, 0, args.refresh_reps, 1)
    del every
    torch.cuda.empty_cache()
    return row(name, "torch-reference", model, step, max(0.0, refresh[0] - step[0]), UPDATE_GAP, state, args.reps)


def fits(preset, dtype):
    """Weights + grads with room to spare; each method that then runs out of memory is skipped alone."""
    n = sum(torch.Size(s).numel() for _n, s, _p, _u in llama_shapes(preset))
    need = n * 2 * (4 if dtype == "float32" else 2)
    free, _total = torch.cuda.mem_get_info()
    return need < 0.8 * free, need


def attempt(label, skipped, fn, *fn_args):
    """fn(*fn_args) or, when the GPU runs out of memory, a note in `skipped` and None."""
    try:
        return fn(*fn_args)
    except torch.cuda.OutOfMemoryError:
        skipped.append(f"{label} (out of memory)")
        torch.cuda.empty_cache()
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="60m,130m,350m,1b,7b")
    ap.add_argument("--dtype", default="float32,bfloat16")
    ap.add_argument("--methods", default="adamw,sgdm," + ",".join(REFERENCE_METHODS))
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--inner", type=int, default=10)
    ap.add_argument("--refresh-reps", type=int, default=5)
    ap.add_argument("--out", default="bench/results", help="a folder (torch-<device>-<date>.json inside) or a .json path")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("step_bench.py: needs a CUDA GPU")
    methods = args.methods.split(",")
    rows, copy_bw, skipped = [], {}, []
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 GEMMs, as cuBLAS runs ours
    with torch.no_grad():
        for preset in args.preset.split(","):
            assert preset in LLAMA_PRESETS, f"--preset: unknown '{preset}'"
            for dtype in args.dtype.split(","):
                ok, need = fits(preset, dtype)
                if not ok:
                    skipped.append(f"{preset} {dtype} (needs {need / 2**30:.1f} GiB)")
                    continue
                print(f"{preset} {dtype}", file=sys.stderr)
                model = Model(preset, dtype)
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
                    r = attempt(f"{preset} {dtype} {label}", skipped, run, model)
                    if r is not None:
                        rows.append(r)
                del model
                torch.cuda.empty_cache()
    config = {"presets": args.preset, "dtypes": args.dtype, "reps": args.reps, "warmup": args.warmup,
              "inner": args.inner, "refreshReps": args.refresh_reps, "skipped": skipped,
              "stateDtype": "torch.optim: the param dtype; reference methods: float32"}
    path = write_results(args.out, rows, copy_bw, config)
    for r in rows:
        print(f"{r['preset']:5} {r['dtype']:9} {r['method']:15} {r['impl']:16} {r['stepMs']:10.3f} ms"
              f"  refresh {r['refreshMs'] if r['refreshMs'] is not None else '-'}")
    for s in skipped:
        print("skipped:", s)
    print("wrote", path)


if __name__ == "__main__":
    main()
