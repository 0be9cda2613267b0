"""ONNX export with the exact I/O of models/PACK_FORMAT.md (kind text-lm), plus reference
inputs/outputs from torch for check_parity.mjs (onnxruntime-node must match within 1e-3,
with and without the KV cache, with a non-zero steering tensor)."""
from __future__ import annotations

import json
import os
import subprocess
import shutil

import numpy as np
import torch

from lm_train import eval_windows, load_lm
from model import OnnxWrapper

INPUTS = ["input_ids", "position_ids", "past_keys", "past_values", "steering"]
OUTPUTS = ["logits", "present_keys", "present_values", "hook_resid"]


def export_onnx(model, path: str):
    cfg = model.cfg
    wrapper = OnnxWrapper(model).eval()
    B, S, P = 2, 3, 2  # a non-empty past while tracing; all three axes are dynamic
    args = (
        torch.randint(3, cfg.vocab_size, (B, S)),
        torch.arange(P, P + S).unsqueeze(0).repeat(B, 1),
        torch.randn(cfg.n_layers, B, cfg.n_heads, P, cfg.d_head),
        torch.randn(cfg.n_layers, B, cfg.n_heads, P, cfg.d_head),
        torch.zeros(B, S, cfg.d_model),
    )
    dyn = {
        "input_ids": {0: "batch", 1: "seq"}, "position_ids": {0: "batch", 1: "seq"},
        "past_keys": {1: "batch", 3: "past"}, "past_values": {1: "batch", 3: "past"},
        "steering": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"},
        "present_keys": {1: "batch", 3: "past_plus_seq"}, "present_values": {1: "batch", 3: "past_plus_seq"},
        "hook_resid": {0: "batch", 1: "seq"},
    }
    with torch.no_grad():
        torch.onnx.export(wrapper, args, path, input_names=INPUTS, output_names=OUTPUTS, dynamic_axes=dyn,
                          opset_version=17, do_constant_folding=True)


def _t(x: torch.Tensor) -> dict:
    data = x.detach().reshape(-1).tolist()
    if x.is_floating_point():  # 1e-6 is far below the 1e-3 tolerance and halves the file
        data = [round(v, 6) for v in data]
    return {"dims": list(x.shape), "data": data}


@torch.no_grad()
def reference(model, ids: torch.Tensor, split: int, seed: int) -> dict:
    """Two calls over the same tokens: all at once (past = 0), and the tail after a cached
    head. The steering is random and non-zero, the same per position in both."""
    cfg = model.cfg
    B, S = ids.shape
    g = torch.Generator().manual_seed(seed)
    steering = torch.randn(B, S, cfg.d_model, generator=g) * 0.5
    pos = torch.arange(S).unsqueeze(0).repeat(B, 1)
    empty = torch.zeros(cfg.n_layers, B, cfg.n_heads, 0, cfg.d_head)
    full = model(ids, pos, empty, empty, steering)
    head = model(ids[:, :split], pos[:, :split], empty, empty, steering[:, :split])
    tail_in = (ids[:, split:], pos[:, split:], head[1], head[2], steering[:, split:])
    tail = model(*tail_in)
    cases = [
        {"name": "no_cache", "inputs": dict(zip(INPUTS, map(_t, (ids, pos, empty, empty, steering)))),
         "outputs": dict(zip(OUTPUTS, map(_t, full)))},
        {"name": "with_cache", "inputs": dict(zip(INPUTS, map(_t, tail_in))),
         "outputs": dict(zip(OUTPUTS, map(_t, tail))), "same_as": {"case": "no_cache", "from_position": split}},
    ]
    return {"tolerance": 1e-3, "cases": cases}


def run_parity(onnx_path: str, ref_path: str, log=print) -> bool:
    node = shutil.which("node")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_parity.mjs")
    if node is None:
        log("export: node not found, parity check skipped")
        return False
    r = subprocess.run([node, script, onnx_path, ref_path], capture_output=True, text=True)
    for line in (r.stdout + r.stderr).strip().split("\n"):
        log("parity: " + line)
    if r.returncode != 0:
        raise RuntimeError(f"ONNX parity check failed ({onnx_path})")
    return True


def stage(c):
    model, _ = load_lm(c.work, "cpu")
    cfg = model.cfg
    path = c.o("model.onnx")
    export_onnx(model, path)
    c.log(f"export: {path} {os.path.getsize(path)/1e6:.1f} MB")
    va = np.load(c.w("tokens_val.npy"))
    S = min(c.s["parity_seq"], cfg.context)
    ids = eval_windows(va, S, c.s["parity_batch"])[:, :S]
    ref = reference(model, ids, split=S * 3 // 4, seed=c.seed + 31)
    ref_path = c.w("parity_reference.json")
    json.dump(ref, open(ref_path, "w"))
    ok = run_parity(path, ref_path, c.log)
    json.dump({"parity_checked": ok, "tolerance": ref["tolerance"]}, open(c.w("parity_result.json"), "w"))
    if c.mode == "fixture":  # the app's runtime tests can compare against these
        shutil.copy(ref_path, c.o("reference.json"))
