#!/usr/bin/env python3
"""Re-exports a text-lm pack whose graph is the old single model.onnx (stacked past_keys /
past_values) as the split layout (below.onnx, above.onnx, per-layer past/present) from the
very same weights: no retraining, so the SAE, the examples and the shipped index stay valid.

  /usr/bin/python3 models/recipes/text/reexport.py <pack folder> [--keep-old <path>]

The weights are read from model.onnx's initializers (onnx_weights.py, no `onnx` package),
loaded into the recipe's TinyLM, exported by export.py, and the new graphs are checked
against the old one in onnxruntime-node (check_relayout.mjs: logits, hook_resid and every
layer's present, with and without the cache, steering non-zero, max |diff| <= 1e-4) before
the manifest is switched. A reference.json in the folder (the fixture's) is rewritten in the
new layout from the same inputs. model.onnx is removed, or moved to --keep-old.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from export import GRAPHS, export_onnx, reference  # noqa: E402
from model import LMConfig, TinyLM  # noqa: E402
from onnx_weights import read_initializers  # noqa: E402


def load_from_onnx(path: str | list[str], cfg: LMConfig) -> TinyLM:
    """TinyLM with the weights of an exported model.onnx, or of a split pack's graphs in the
    order a step runs them (below, middle…, above). Named parameters keep their names
    (lm.<param>); constant folding stored each Linear weight transposed, unnamed, in graph
    order (per block: qkv, proj, fc, out; then the tied unembedding, tok.weight.T)."""
    inits = [read_initializers(p) for p in ([path] if isinstance(path, str) else path)]
    model = TinyLM(cfg).eval()
    state = model.state_dict()
    named = {k[3:]: v for init in inits for k, v in init.items() if k.startswith("lm.")}
    folded = [v for init in inits for k, v in init.items() if not k.startswith("lm.")]
    new = {}
    for k, v in named.items():
        if k not in state or tuple(state[k].shape) != v.shape:
            raise ValueError(f"{path}: initializer lm.{k} {v.shape} does not fit the model")
        new[k] = torch.from_numpy(v.copy())
    order = [f"blocks.{i}.{m}.weight" for i in range(cfg.n_layers) for m in ("qkv", "proj", "fc", "out")]
    if len(folded) != len(order) + 1:
        raise ValueError(f"{path}: {len(folded)} unnamed initializers, expected {len(order) + 1}")
    for k, v in zip(order, folded):
        if tuple(state[k].shape) != v.T.shape:
            raise ValueError(f"{path}: {k} expects {tuple(state[k].shape)}, got {v.shape} transposed")
        new[k] = torch.from_numpy(v.T.copy())
    if not np.array_equal(folded[-1], named["tok.weight"].T):
        raise ValueError(f"{path}: the last unnamed initializer is not tok.weight transposed")
    missing = set(state) - set(new)
    if missing:
        raise ValueError(f"{path}: no weights for {sorted(missing)}")
    model.load_state_dict(new)
    return model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pack")
    p.add_argument("--keep-old", help="move the old model.onnx here instead of deleting it")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    mpath = os.path.join(a.pack, "manifest.json")
    manifest = json.load(open(mpath))
    m = manifest["model"]
    if not isinstance(m["onnx"], str):
        print(f"{a.pack}: already split ({m['onnx']})")
        return
    old = os.path.join(a.pack, m["onnx"])
    hook_layer = int(m["hook"].split(".")[1])
    cfg = LMConfig(vocab_size=m["vocab_size"], d_model=m["d_model"], n_layers=m["n_layers"],
                   n_heads=m["n_heads"], context=m["context"], hook_layer=hook_layer)
    model = load_from_onnx(old, cfg)
    tmp = tempfile.mkdtemp(prefix="orrery-reexport-")
    try:
        export_onnx(model, tmp)
        node = shutil.which("node") or "node"
        r = subprocess.run([node, os.path.join(HERE, "check_relayout.mjs"), old, tmp], text=True)
        if r.returncode != 0:
            raise SystemExit("re-export: the new graphs do not match the old one; nothing changed")
        ref_path = os.path.join(a.pack, "reference.json")
        if os.path.exists(ref_path):  # same inputs, new layout
            old_ref = json.load(open(ref_path))
            c0 = next(c for c in old_ref["cases"] if c["name"] == "no_cache")
            c1 = next(c for c in old_ref["cases"] if c.get("same_as"))
            ids = torch.tensor(c0["inputs"]["input_ids"]["data"]).reshape(c0["inputs"]["input_ids"]["dims"])
            st = c0["inputs"]["steering"]
            steering = torch.tensor(st["data"], dtype=torch.float32).reshape(st["dims"])
            ref = reference(model, ids, split=c1["same_as"]["from_position"], seed=0, steering=steering)
            json.dump(ref, open(os.path.join(tmp, "reference.json"), "w"))
            r = subprocess.run([node, os.path.join(HERE, "check_parity.mjs"), tmp,
                                os.path.join(tmp, "reference.json")], text=True)
            if r.returncode != 0:
                raise SystemExit("re-export: parity against torch failed; nothing changed")
            shutil.copy(os.path.join(tmp, "reference.json"), ref_path)
        for file in GRAPHS.values():
            shutil.copy(os.path.join(tmp, file), os.path.join(a.pack, file))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    m["onnx"] = dict(GRAPHS)
    json.dump(manifest, open(mpath, "w"), indent=2, ensure_ascii=False)
    open(mpath, "a").write("\n")
    if a.keep_old:
        shutil.move(old, a.keep_old)
    else:
        os.remove(old)
    print(f"re-export: {a.pack} now has {', '.join(GRAPHS.values())}")


if __name__ == "__main__":
    main()
