"""A TopK SAE at another layer of the text pack, for the cross-layer bridge figure (not shipped).

Reads the rows dump.ts wrote ([tokens, d_model] float32), trains with the text recipe's own
trainer (models/recipes/text/sae.py: TopK + AuxK, unit-norm decoder rows) on the first 90%
of the rows and reports FVE on the last 10%, then writes the SAE in SAELens's format
(cfg.json with the hook, fp16 sae_weights.safetensors) for main/bridge's `<pack>#<SAE folder>`.

  /usr/bin/python3 bench/bridgeLayer/train_sae.py <rows.f32> <hook> <out dir> [--passes 3]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from types import SimpleNamespace

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "models", "recipes", "text"))
import sae as recipe  # noqa: E402
import st_io  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("rows")
    p.add_argument("hook")
    p.add_argument("out")
    p.add_argument("--d-model", type=int, default=192)
    p.add_argument("--d-sae", type=int, default=4096)
    p.add_argument("--k", type=int, default=32)
    p.add_argument("--passes", type=float, default=3)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--pack-id", default="orrery-text-fortunes")
    a = p.parse_args()
    torch.set_num_threads(1)
    x = torch.from_numpy(np.fromfile(a.rows, dtype=np.float32).reshape(-1, a.d_model).copy())
    g = torch.Generator().manual_seed(a.seed)
    order = torch.randperm(len(x), generator=g)
    cut = int(0.9 * len(x))
    train, held = x[order[:cut]], x[order[cut:]]
    steps = max(10, int(a.passes * len(train) // a.batch))
    sae = recipe.train_sae(train, a.d_sae, a.k, steps=steps, batch=a.batch, lr=a.lr, seed=a.seed,
                           device="cpu", dead_after_tokens=min(100_000, len(train) // 4))
    with torch.no_grad():
        # the weights as shipped (fp16), measured as the app will read them
        w = recipe.shipped_weights(sae)
        for n in ("W_enc", "W_dec", "b_enc", "b_dec"):
            getattr(sae, n).copy_(torch.from_numpy(w[n].astype(np.float32)))
        err = (held - sae(held)).pow(2).sum(-1).mean()
        fve = 1 - (err / held.var(dim=0).sum()).item()
        fired = torch.zeros(a.d_sae, dtype=torch.bool)
        for s in range(0, len(x), 8192):
            vals, idx = sae.encode_sparse(x[s:s + 8192])
            fired[idx[vals > 0]] = True
    os.makedirs(a.out, exist_ok=True)
    st_io.save_file(w, os.path.join(a.out, "sae_weights.safetensors"))
    layer = int(re.match(r"blocks\.(\d+)\.", a.hook).group(1))
    cfg_lm = SimpleNamespace(hook_name=a.hook, hook_layer=layer, d_model=a.d_model)
    cfg = recipe.sae_cfg(cfg_lm, a.d_sae, a.k, a.pack_id, 256)
    cfg["metadata"]["trained_by"] = "bench/bridgeLayer/train_sae.py"
    json.dump(cfg, open(os.path.join(a.out, "cfg.json"), "w"), indent=1)
    report = {"hook": a.hook, "rows": len(x), "steps": steps, "fve_held_out": round(fve, 4),
              "dead_fraction": round(1 - fired.float().mean().item(), 4), "out": a.out}
    json.dump(report, open(os.path.join(a.out, "train.json"), "w"), indent=1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
