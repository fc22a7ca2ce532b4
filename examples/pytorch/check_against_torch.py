"""Steps FrugalOptimizer (libfrugal through ctypes) on data from a JSON file and reports the params.

    python3 check_against_torch.py LIBFRUGAL IN.json OUT.json [--device cpu|cuda]

IN.json: {"shapes": [[m, n], [k]], "params": [[...], ...], "grads": [[[...], ...], ...] (one list per
step), "methods": {"name": {"method": ..., options...}, ...}}. For every method it writes the params
after all steps; for AdamW it also runs torch.optim.AdamW on the same data and writes the largest
difference, so the caller can hold libfrugal to torch. Used by test/pytorch-example.test.ts.
"""

import json
import sys
import time

import torch

from frugal_torch import FrugalOptimizer, load_library


def run(lib, data, spec, device, use_torch=False):
    params = [torch.tensor(p, dtype=torch.float32, device=device).reshape(s) for p, s in zip(data["params"], data["shapes"])]
    params = [torch.nn.Parameter(p) for p in params]
    opts = {k: v for k, v in spec.items() if k != "method"}
    if use_torch:
        opt = torch.optim.AdamW(params, lr=opts["lr"], betas=tuple(opts["betas"]), eps=opts["eps"],
                                weight_decay=opts["weight_decay"])
    else:
        opt = FrugalOptimizer(params, lib, method=spec["method"], **opts)
    for step in data["grads"]:
        for p, g, s in zip(params, step, data["shapes"]):
            p.grad = torch.tensor(g, dtype=torch.float32, device=device).reshape(s)
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    out = [p.detach().cpu().reshape(-1).tolist() for p in params]
    state = None if use_torch else opt.state_bytes()
    if not use_torch:
        opt.close()
    return out, state


def main():
    lib_path, in_path, out_path = sys.argv[1:4]
    device = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--device" else "cpu"
    lib = load_library(lib_path)
    data = json.load(open(in_path))
    result = {"torch": torch.__version__, "abi": lib.frugal_abi_version(), "device": device, "methods": {}}
    for name, spec in data["methods"].items():
        t0 = time.perf_counter()
        params, state = run(lib, data, spec, device)
        entry = {"params": params, "state_bytes": state, "seconds": time.perf_counter() - t0}
        if spec["method"] == "adamw":
            ref, _ = run(lib, data, spec, device, use_torch=True)
            entry["torch_params"] = ref
            entry["max_abs_diff_vs_torch"] = max(abs(a - b) for pa, pb in zip(params, ref) for a, b in zip(pa, pb))
        result["methods"][name] = entry
    # Bad input is an error naming the argument, not a crash.
    try:
        FrugalOptimizer([torch.nn.Parameter(torch.zeros(2))], lib, method="bogus")
        result["bad_method"] = "accepted"
    except ValueError as e:
        result["bad_method"] = str(e)
    json.dump(result, open(out_path, "w"))


if __name__ == "__main__":
    main()
