"""Shared pieces of the PyTorch comparison: the LLaMA presets' parameter shapes (the same list,
in the same order, as lib/plan/llama-presets.ts), timing (CUDA events on a GPU, the host clock on
the CPU, where torch's ops are synchronous), and the results JSON in the schema of
lib/bench/results.ts so that lib/bench/compare.ts can pair rows with ours."""
import datetime
import json
import os
import platform
import statistics
import time

import torch

RESULTS_SCHEMA = "frugal-optim-bench/1"

# hidden, intermediate, heads, layers; vocabulary 32000, untied embedding and LM head.
LLAMA_PRESETS = {
    "60m": (512, 1376, 8, 8),
    "130m": (768, 2048, 12, 12),
    "350m": (1024, 2736, 16, 24),
    "1b": (2048, 5461, 32, 24),
    "7b": (4096, 11008, 32, 32),
    "13b": (5120, 13824, 40, 40),
}
VOCAB = 32000
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def llama_shapes(preset):
    """(name, shape, projectable, unit) in LlamaForCausalLM.named_parameters() order."""
    h, f, _heads, layers = LLAMA_PRESETS[preset]
    out = [("model.embed_tokens.weight", (VOCAB, h), False, "embed")]
    for l in range(layers):
        pre, unit = f"model.layers.{l}.", f"layer{l}"
        for name, shape in (("self_attn.q_proj.weight", (h, h)), ("self_attn.k_proj.weight", (h, h)),
                            ("self_attn.v_proj.weight", (h, h)), ("self_attn.o_proj.weight", (h, h)),
                            ("mlp.gate_proj.weight", (f, h)), ("mlp.up_proj.weight", (f, h)),
                            ("mlp.down_proj.weight", (h, f))):
            out.append((pre + name, shape, True, unit))
        out.append((pre + "input_layernorm.weight", (h,), False, unit))
        out.append((pre + "post_attention_layernorm.weight", (h,), False, unit))
    out.append(("model.norm.weight", (h,), False, "head"))
    out.append(("lm_head.weight", (VOCAB, h), False, "head"))
    return out


class Model:
    """Parameters with random gradients on `device`, split as the memory-efficient methods split them."""

    def __init__(self, preset, dtype, device="cuda", seed=1):
        gen = torch.Generator(device=device).manual_seed(seed)
        self.preset, self.dtype, self.device = preset, dtype, device
        self.specs = llama_shapes(preset)
        self.params = []
        for _name, shape, _proj, _unit in self.specs:
            p = torch.nn.Parameter(0.02 * torch.randn(shape, generator=gen, device=device, dtype=DTYPES[dtype]))
            p.grad = 1e-3 * torch.randn(shape, generator=gen, device=device, dtype=DTYPES[dtype])
            self.params.append(p)
        self.projectable = [p for p, s in zip(self.params, self.specs) if s[2]]
        self.regular = [p for p, s in zip(self.params, self.specs) if not s[2]]

    def numel(self):
        return sum(p.numel() for p in self.params)

    def layers(self):
        """Projectable params grouped by transformer layer (BAdam's blocks)."""
        groups = {}
        for p, (_n, _s, proj, unit) in zip(self.params, self.specs):
            if proj:
                groups.setdefault(unit, []).append(p)
        return list(groups.values())


def synchronize(device):
    if device == "cuda":
        torch.cuda.synchronize()


def _sample_cuda(fn, inner):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(inner):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / inner


def _sample_cpu(fn, inner):
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) * 1e3 / inner


def time_ms(fn, warmup, reps, inner=1, device="cuda"):
    """Median, p10, p90 milliseconds per call, each sample `inner` calls between two timing
    events: CUDA events on the GPU, the host clock on the CPU."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    sample = _sample_cuda if device == "cuda" else _sample_cpu
    samples = [sample(fn, inner) for _ in range(reps)]
    s = sorted(samples)

    def q(x):
        pos = (len(s) - 1) * x
        lo, hi = int(pos), min(int(pos) + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - lo)

    return statistics.median(samples), q(0.1), q(0.9)


def copy_bandwidth_gbs(model, warmup=2, reps=10, inner=5):
    """Every gradient copied onto its weight, as our bench does: (read + write bytes) / time."""
    def copy_all():
        with torch.no_grad():
            for p in model.params:
                p.copy_(p.grad)
    med, _lo, _hi = time_ms(copy_all, warmup, reps, inner, model.device)
    nbytes = sum(p.numel() * p.element_size() for p in model.params)
    return 2 * nbytes / (med * 1e6)


def row(method, impl, model, step, refresh_ms, update_gap, state_bytes, reps):
    med, p10, p90 = step
    return {
        "method": method, "impl": impl, "preset": model.preset, "dtype": model.dtype, "params": model.numel(),
        "stepMs": med, "stepMsP10": p10, "stepMsP90": p90,
        "refreshMs": refresh_ms, "updateGap": update_gap,
        "amortizedMs": med + (refresh_ms / update_gap if refresh_ms is not None and update_gap else 0.0),
        # The must-move count is ours (lib/bench/bytes-moved.ts): compare.ts takes it from our rows.
        "bytesMoved": None, "bandwidthGBs": None, "copyFraction": None, "flops": 0,
        "stateBytes": state_bytes, "reps": reps,
    }


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def device_info(device):
    """(name, total memory in bytes) in the form our bench records."""
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        return props.name, props.total_memory
    return cpu_name(), os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def write_results(out_dir, rows, copy_bw, config, device="cuda"):
    name, total = device_info(device)
    now = datetime.datetime.now(datetime.timezone.utc)
    results = {
        "schema": RESULTS_SCHEMA, "source": "torch", "date": now.isoformat(),
        "device": {"kind": "cuda" if device == "cuda" else "cpu", "name": name, "totalMemory": total},
        "timing": "cuda-events" if device == "cuda" else "host-clock", "copyBandwidthGBs": copy_bw,
        "config": dict(config, torch=torch.__version__), "rows": rows,
    }
    # Our files are <device>-<date>.json: "cpu-..." on the CPU, the GPU's name otherwise.
    name = "cpu" if device != "cuda" else "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    if out_dir.endswith(".json"):
        path = out_dir
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    else:
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, f"torch-{name}-{now.date().isoformat()}.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    return path


