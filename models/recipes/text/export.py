"""ONNX export with the exact I/O of models/PACK_FORMAT.md (kind text-lm): the model split at
the hook into two graphs, `below.onnx` (tokens -> hook_resid) and `above.onnx` (hook_resid +
steering -> logits), each with its layers' KV cache as per-layer past.{i}.key/value inputs and
present.{i}.key/value outputs. A pack with SAEs at several hooks (--hooks) is split at each:
below, one `middle{i}.onnx` between consecutive hooks (hook_resid + steering -> next_hook_resid),
above. --fp16 stores the weights as fp16 initializers behind a Cast (float32 I/O). Plus reference inputs/outputs from torch for check_parity.mjs
(onnxruntime-node must match within 1e-3, with and without the KV cache, with a non-zero
steering tensor)."""
from __future__ import annotations

import json
import os
import subprocess
import shutil

import numpy as np
import torch

from common.fp16 import halfify
from model import AboveHook, BelowHook, MiddleHook

GRAPHS = {"below": "below.onnx", "above": "above.onnx"}


def hook_name(layer: int) -> str:
    return f"blocks.{layer}.hook_resid_post"


def graphs_of(hooks: list[int]) -> dict:
    """The manifest's model.onnx: below/above, plus `middle` (one graph between each pair of
    consecutive hooks) when the pack has SAEs at several hooks."""
    if len(hooks) == 1:
        return dict(GRAPHS)
    return {"below": GRAPHS["below"], "middle": [f"middle{i}.onnx" for i in range(1, len(hooks))],
            "above": GRAPHS["above"]}


def segments(cfg, hooks: list[int]) -> list[dict]:
    """The graphs in the order a step runs them: file, the hook it starts at (None for below),
    the hook it ends at (None for above) and its layers."""
    files = graphs_of(hooks)
    out = [{"file": files["below"], "first": None, "last": hooks[0], "layers": list(range(hooks[0] + 1))}]
    for i, f in enumerate(files.get("middle", [])):
        out.append({"file": f, "first": hooks[i], "last": hooks[i + 1],
                    "layers": list(range(hooks[i] + 1, hooks[i + 1] + 1))})
    out.append({"file": files["above"], "first": hooks[-1], "last": None,
                "layers": list(range(hooks[-1] + 1, cfg.n_layers))})
    return out


def kv_names(prefix: str, layers) -> list[str]:
    return [f"{prefix}.{i}.{kv}" for i in layers for kv in ("key", "value")]


def io_names(seg: dict) -> tuple[list[str], list[str]]:
    ls = seg["layers"]
    if seg["first"] is None:
        return ["input_ids", "position_ids", *kv_names("past", ls)], ["hook_resid", *kv_names("present", ls)]
    ins = ["hook_resid", "steering", *(["position_ids", *kv_names("past", ls)] if ls else [])]
    out = "logits" if seg["last"] is None else "next_hook_resid"
    return ins, [out, *kv_names("present", ls)]


def wrapper(model, seg: dict):
    if seg["first"] is None:
        return BelowHook(model, seg["last"]).eval()
    if seg["last"] is None:
        return AboveHook(model, seg["first"]).eval()
    return MiddleHook(model, seg["first"], seg["last"]).eval()


def export_onnx(model, out_dir: str, hooks: list[int] | None = None, half: bool = False) -> dict:
    """Writes the graphs (below, middle…, above) into out_dir; returns their paths by file.
    half: weights stored as fp16 initializers behind a Cast (common/fp16.py), float32 I/O."""
    cfg = model.cfg
    hooks = hooks or [cfg.hook_layer]
    B, S, P = 2, 3, 2  # a non-empty past while tracing; batch, seq and past are dynamic
    ids = torch.randint(3, cfg.vocab_size, (B, S))
    pos = torch.arange(P, P + S).unsqueeze(0).repeat(B, 1)
    kv = lambda: torch.randn(B, cfg.n_heads, P, cfg.d_head)  # noqa: E731
    src = halfify(model, half)
    paths = {}
    for seg in segments(cfg, hooks):
        ins, outs = io_names(seg)
        ls = seg["layers"]
        if seg["first"] is None:
            args = (ids, pos, *[kv() for _ in kv_names("past", ls)])
        else:
            args = (torch.randn(B, S, cfg.d_model), torch.zeros(B, S, cfg.d_model),
                    *([pos, *[kv() for _ in kv_names("past", ls)]] if ls else []))
        dyn = {}
        for n in ins + outs:
            if n.startswith("past."):
                dyn[n] = {0: "batch", 2: "past"}
            elif n.startswith("present."):
                dyn[n] = {0: "batch", 2: "past_plus_seq"}
            else:
                dyn[n] = {0: "batch", 1: "seq"}
        path = os.path.join(out_dir, seg["file"])
        with torch.no_grad():
            torch.onnx.export(wrapper(src, seg), args, path, input_names=ins, output_names=outs,
                              dynamic_axes=dyn, opset_version=17,
                              # folding would turn each fp16 weight and its Cast back into float32
                              do_constant_folding=not half)
        paths[seg["file"]] = path
    return paths


def _t(x: torch.Tensor) -> dict:
    data = x.detach().reshape(-1).tolist()
    if x.is_floating_point():  # 1e-6 is far below the 1e-3 tolerance and halves the file
        data = [round(v, 6) for v in data]
    return {"dims": list(x.shape), "data": data}


def steering_key(hooks: list[int], j: int) -> str:
    """The reference's name for the steering at hooks[j]: `steering` with one hook."""
    return "steering" if len(hooks) == 1 else f"steering:{hook_name(hooks[j])}"


@torch.no_grad()
def step(model, ids, pos, past: dict, steering: dict, hooks: list[int]) -> dict:
    """One step through the graphs in order, as the runtime runs it: every input and output by
    name (past/present per layer; the residual at each hook under the hook's name, below's also
    as hook_resid). steering: the tensor added at each hook, by steering_key."""
    segs = segments(model.cfg, hooks)
    inputs = {"input_ids": ids, "position_ids": pos, **steering, **past}
    outputs = {}
    h = None
    for j, seg in enumerate(segs):
        ls = seg["layers"]
        pasts = [past[n] for n in kv_names("past", ls)]
        if seg["first"] is None:
            r = wrapper(model, seg)(ids, pos, *pasts)
            outputs["hook_resid"] = r[0]
        else:
            r = wrapper(model, seg)(h, steering[steering_key(hooks, j - 1)], *([pos, *pasts] if ls else []))
        outputs[hook_name(seg["last"]) if seg["last"] is not None else "logits"] = r[0]
        outputs.update(zip(kv_names("present", ls), r[1:]))
        h = r[0]
    return {"inputs": inputs, "outputs": outputs}


def empty_past(cfg, B: int) -> dict:
    return {n: torch.zeros(B, cfg.n_heads, 0, cfg.d_head) for n in kv_names("past", range(cfg.n_layers))}


@torch.no_grad()
def reference(model, ids: torch.Tensor, split: int, seed: int, steering=None, hooks: list[int] | None = None) -> dict:
    """Two steps over the same tokens: all at once (past empty), and the tail after a cached
    head. The steering at each hook is random and non-zero, the same per position in both. Each
    case holds the inputs and outputs of every graph by name (check_parity.mjs runs below, each
    middle, then above, each on the residual the one before gave). `steering`: the one hook's
    tensor instead of a random one (reexport.py)."""
    cfg = model.cfg
    hooks = hooks or [cfg.hook_layer]
    B, S = ids.shape
    g = torch.Generator().manual_seed(seed)
    steering = ({"steering": steering} if steering is not None else
                {steering_key(hooks, j): torch.randn(B, S, cfg.d_model, generator=g) * 0.5
                 for j in range(len(hooks))})
    pos = torch.arange(S).unsqueeze(0).repeat(B, 1)
    full = step(model, ids, pos, empty_past(cfg, B), steering, hooks)
    head = step(model, ids[:, :split], pos[:, :split], empty_past(cfg, B),
                {k: v[:, :split] for k, v in steering.items()}, hooks)
    past = {n.replace("present.", "past.", 1): t for n, t in head["outputs"].items() if n.startswith("present.")}
    tail = step(model, ids[:, split:], pos[:, split:], past, {k: v[:, split:] for k, v in steering.items()}, hooks)
    enc = lambda d: {n: _t(t) for n, t in d.items()}  # noqa: E731
    cases = [
        {"name": "no_cache", "inputs": enc(full["inputs"]), "outputs": enc(full["outputs"])},
        {"name": "with_cache", "inputs": enc(tail["inputs"]), "outputs": enc(tail["outputs"]),
         "same_as": {"case": "no_cache", "from_position": split}},
    ]
    return {"tolerance": 1e-3, "graphs": graphs_of(hooks), "hooks": [hook_name(h) for h in hooks], "cases": cases}


def run_parity(pack_dir: str, ref_path: str, log=print) -> bool:
    node = shutil.which("node")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_parity.mjs")
    if node is None:
        log("export: node not found, parity check skipped")
        return False
    r = subprocess.run([node, script, pack_dir, ref_path], capture_output=True, text=True)
    for line in (r.stdout + r.stderr).strip().split("\n"):
        log("parity: " + line)
    if r.returncode != 0:
        raise RuntimeError(f"ONNX parity check failed ({pack_dir})")
    return True


def stage(c):
    from lm_train import eval_windows, load_lm
    model, _ = load_lm(c.work, "cpu")
    cfg = model.cfg
    hooks = c.hooks()
    half = bool(c.s.get("fp16", 0))
    paths = export_onnx(model, c.out, hooks, half)
    for f, path in paths.items():
        c.log(f"export: {f} {os.path.getsize(path)/1e6:.1f} MB" + (" (fp16 weights)" if half else ""))
    va = np.load(c.w("tokens_val.npy"))
    S = min(c.s["parity_seq"], cfg.context)
    ids = eval_windows(va, S, c.s["parity_batch"])[:, :S]
    # The reference is the model with the weights that ship: the same halfify'd copy the graphs
    # were traced from (fp16 Linear/Embedding weights cast to float32; biases and norms float32).
    shipped = halfify(model, True) if half else model
    ref = reference(shipped, ids, split=S * 3 // 4, seed=c.seed + 31, hooks=hooks)
    ref_path = c.w("parity_reference.json")
    json.dump(ref, open(ref_path, "w"))
    ok = run_parity(c.out, ref_path, c.log)
    result = {"parity_checked": ok, "tolerance": ref["tolerance"], "fp16": half}
    if half:  # what rounding the weights costs against the float32 model, same steered step
        g = torch.Generator().manual_seed(c.seed + 31)
        steer = {steering_key(hooks, j): torch.randn(*ids.shape, cfg.d_model, generator=g) * 0.5
                 for j in range(len(hooks))}
        pos = torch.arange(S).unsqueeze(0).repeat(ids.shape[0], 1)
        full = step(model, ids, pos, empty_past(cfg, ids.shape[0]), steer, hooks)["outputs"]["logits"]
        rounded = step(shipped, ids, pos, empty_past(cfg, ids.shape[0]), steer, hooks)["outputs"]["logits"]
        result["fp16_vs_fp32_max_logit_diff"] = float((full - rounded).abs().max())
        c.log(f"export: fp16 weights vs float32, max |logit diff| {result['fp16_vs_fp32_max_logit_diff']:.2e}")
    json.dump(result, open(c.w("parity_result.json"), "w"))
    if c.mode == "fixture":  # the app's runtime tests can compare against these
        shutil.copy(ref_path, c.o("reference.json"))
