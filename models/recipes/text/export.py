"""ONNX export with the exact I/O of models/PACK_FORMAT.md (kind text-lm): the model split at
the hook into two graphs, `below.onnx` (tokens -> hook_resid) and `above.onnx` (hook_resid +
steering -> logits), each with its layers' KV cache as per-layer past.{i}.key/value inputs and
present.{i}.key/value outputs. Plus reference inputs/outputs from torch for check_parity.mjs
(onnxruntime-node must match within 1e-3, with and without the KV cache, with a non-zero
steering tensor)."""
from __future__ import annotations

import json
import os
import subprocess
import shutil

import numpy as np
import torch

from model import AboveHook, BelowHook

GRAPHS = {"below": "below.onnx", "above": "above.onnx"}


def below_layers(cfg) -> list[int]:
    return list(range(cfg.hook_layer + 1))


def above_layers(cfg) -> list[int]:
    return list(range(cfg.hook_layer + 1, cfg.n_layers))


def kv_names(prefix: str, layers: list[int]) -> list[str]:
    return [f"{prefix}.{i}.{kv}" for i in layers for kv in ("key", "value")]


def io_names(cfg) -> dict:
    lo, hi = below_layers(cfg), above_layers(cfg)
    return {
        "below": (["input_ids", "position_ids", *kv_names("past", lo)], ["hook_resid", *kv_names("present", lo)]),
        "above": (["hook_resid", "steering", "position_ids", *kv_names("past", hi)] if hi else
                  ["hook_resid", "steering"], ["logits", *kv_names("present", hi)]),
    }


def export_onnx(model, out_dir: str) -> dict:
    """Writes below.onnx and above.onnx into out_dir; returns their paths by graph."""
    cfg = model.cfg
    B, S, P = 2, 3, 2  # a non-empty past while tracing; batch, seq and past are dynamic
    ids = torch.randint(3, cfg.vocab_size, (B, S))
    pos = torch.arange(P, P + S).unsqueeze(0).repeat(B, 1)
    kv = lambda: torch.randn(B, cfg.n_heads, P, cfg.d_head)  # noqa: E731
    names = io_names(cfg)
    hi = above_layers(cfg)
    args = {
        "below": (ids, pos, *[kv() for _ in kv_names("past", below_layers(cfg))]),
        "above": (torch.randn(B, S, cfg.d_model), torch.zeros(B, S, cfg.d_model),
                  *([pos, *[kv() for _ in kv_names("past", hi)]] if hi else [])),
    }
    wrappers = {"below": BelowHook(model).eval(), "above": AboveHook(model).eval()}
    paths = {}
    for g, file in GRAPHS.items():
        ins, outs = names[g]
        dyn = {}
        for n in ins + outs:
            if n.startswith("past."):
                dyn[n] = {0: "batch", 2: "past"}
            elif n.startswith("present."):
                dyn[n] = {0: "batch", 2: "past_plus_seq"}
            else:
                dyn[n] = {0: "batch", 1: "seq"}
        paths[g] = os.path.join(out_dir, file)
        with torch.no_grad():
            torch.onnx.export(wrappers[g], args[g], paths[g], input_names=ins, output_names=outs,
                              dynamic_axes=dyn, opset_version=17, do_constant_folding=True)
    return paths


def _t(x: torch.Tensor) -> dict:
    data = x.detach().reshape(-1).tolist()
    if x.is_floating_point():  # 1e-6 is far below the 1e-3 tolerance and halves the file
        data = [round(v, 6) for v in data]
    return {"dims": list(x.shape), "data": data}


@torch.no_grad()
def step(model, ids, pos, past: dict, steering) -> dict:
    """One step through BelowHook then AboveHook, as the runtime runs it: every input and
    output of both graphs by name (past/present per layer)."""
    cfg = model.cfg
    lo, hi = below_layers(cfg), above_layers(cfg)
    b = BelowHook(model)(ids, pos, *[past[n] for n in kv_names("past", lo)])
    a = AboveHook(model)(b[0], steering, *([pos, *[past[n] for n in kv_names("past", hi)]] if hi else []))
    inputs = {"input_ids": ids, "position_ids": pos, "steering": steering, **past}
    outputs = {"hook_resid": b[0], "logits": a[0],
               **dict(zip(kv_names("present", lo), b[1:])), **dict(zip(kv_names("present", hi), a[1:]))}
    return {"inputs": inputs, "outputs": outputs}


def empty_past(cfg, B: int) -> dict:
    return {n: torch.zeros(B, cfg.n_heads, 0, cfg.d_head) for n in kv_names("past", range(cfg.n_layers))}


@torch.no_grad()
def reference(model, ids: torch.Tensor, split: int, seed: int, steering=None) -> dict:
    """Two steps over the same tokens: all at once (past empty), and the tail after a cached
    head. The steering is random and non-zero, the same per position in both. Each case holds
    the inputs and outputs of both graphs by name (check_parity.mjs runs below, then above on
    its hook_resid)."""
    cfg = model.cfg
    B, S = ids.shape
    if steering is None:
        g = torch.Generator().manual_seed(seed)
        steering = torch.randn(B, S, cfg.d_model, generator=g) * 0.5
    pos = torch.arange(S).unsqueeze(0).repeat(B, 1)
    full = step(model, ids, pos, empty_past(cfg, B), steering)
    head = step(model, ids[:, :split], pos[:, :split], empty_past(cfg, B), steering[:, :split])
    past = {n.replace("present.", "past.", 1): t for n, t in head["outputs"].items() if n.startswith("present.")}
    tail = step(model, ids[:, split:], pos[:, split:], past, steering[:, split:])
    enc = lambda d: {n: _t(t) for n, t in d.items()}  # noqa: E731
    cases = [
        {"name": "no_cache", "inputs": enc(full["inputs"]), "outputs": enc(full["outputs"])},
        {"name": "with_cache", "inputs": enc(tail["inputs"]), "outputs": enc(tail["outputs"]),
         "same_as": {"case": "no_cache", "from_position": split}},
    ]
    return {"tolerance": 1e-3, "graphs": GRAPHS, "cases": cases}


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
    paths = export_onnx(model, c.out)
    for g, path in paths.items():
        c.log(f"export: {g} {path} {os.path.getsize(path)/1e6:.1f} MB")
    va = np.load(c.w("tokens_val.npy"))
    S = min(c.s["parity_seq"], cfg.context)
    ids = eval_windows(va, S, c.s["parity_batch"])[:, :S]
    ref = reference(model, ids, split=S * 3 // 4, seed=c.seed + 31)
    ref_path = c.w("parity_reference.json")
    json.dump(ref, open(ref_path, "w"))
    ok = run_parity(c.out, ref_path, c.log)
    json.dump({"parity_checked": ok, "tolerance": ref["tolerance"]}, open(c.w("parity_result.json"), "w"))
    if c.mode == "fixture":  # the app's runtime tests can compare against these
        shutil.copy(ref_path, c.o("reference.json"))
