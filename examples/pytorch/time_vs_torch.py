"""AdamW through libfrugal (FrugalOptimizer) against torch.optim.AdamW (fused, and foreach) on the
same CUDA tensors, in one process: median of CUDA-event times after warm-up, and the bytes an
AdamW step must move (p, g, m, v read; p, m, v written: 28 bytes a fp32 param) as GB/s.

    python3 time_vs_torch.py LIBFRUGAL [--params 1e8] [--tensors 100] [--reps 20] [--json OUT]

Run by scripts/gpu-check.sh (part 5). Needs a GPU and torch built with CUDA.
"""

import argparse
import json
import statistics

import torch

from frugal_torch import FrugalOptimizer, load_library


def median_ms(step, reps):
    step()  # warm-up: first-step allocations (moments) and kernel loading
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def make(total, tensors, seed):
    g = torch.Generator(device="cuda").manual_seed(seed)
    per = total // tensors
    ps = [torch.nn.Parameter(torch.randn(per, device="cuda", generator=g)) for _ in range(tensors)]
    for p in ps:
        p.grad = torch.randn(per, device="cuda", generator=g)
    return ps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lib")
    ap.add_argument("--params", type=float, default=1e8)
    ap.add_argument("--tensors", type=int, default=100)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--json")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("time_vs_torch.py: torch sees no CUDA device")
    lib = load_library(a.lib)
    total = int(a.params)
    kw = dict(lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    rows = {}
    ours = make(total, a.tensors, 0)
    opt = FrugalOptimizer(ours, lib, method="adamw", **kw)
    rows["frugal-optim (ctypes)"] = median_ms(opt.step, a.reps)
    for name, extra in (("torch fused", {"fused": True}), ("torch foreach", {"foreach": True})):
        ps = make(total, a.tensors, 0)
        try:
            t = torch.optim.AdamW(ps, **kw, **extra)
        except (TypeError, RuntimeError) as e:  # older torch: no fused AdamW
            rows[name] = f"unavailable: {e}"
            continue
        rows[name] = median_ms(t.step, a.reps)
    # Same data, same number of steps (1 warm-up + reps): the results must agree.
    ref = make(total, a.tensors, 0)
    t = torch.optim.AdamW(ref, **kw)
    for _ in range(a.reps + 1):
        t.step()
    diff = max((p - q).abs().max().item() for p, q in zip(ours, ref))
    bytes_moved = 28 * total
    out = {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "params": total,
        "tensors": a.tensors,
        "max_abs_diff_vs_torch": diff,
        "rows": {k: ({"ms": v, "GB/s": bytes_moved / v / 1e6} if isinstance(v, float) else v) for k, v in rows.items()},
    }
    print(f"AdamW, {total:.3g} fp32 params in {a.tensors} tensors on {out['device']} (median of {a.reps}):")
    for k, v in out["rows"].items():
        print(f"  {k:24s} {v['ms']:8.3f} ms  {v['GB/s']:7.1f} GB/s" if isinstance(v, dict) else f"  {k:24s} {v}")
    print(f"  largest difference from torch after {a.reps + 1} steps: {diff:.3g}")
    if a.json:
        json.dump(out, open(a.json, "w"), indent=1)
    opt.close()
    if diff > 1e-5:
        raise SystemExit(f"time_vs_torch.py: results differ from torch by {diff}")


if __name__ == "__main__":
    main()
