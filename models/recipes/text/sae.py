"""TopK sparse autoencoder on the hook's residual stream, saved in SAELens's format.

f = TopK(ReLU((x - b_dec) W_enc + b_enc)),  x̂ = f W_dec + b_dec   (SAELens architecture "topk").
The module and trainer are models/recipes/common/topk_sae.py (normalised MSE plus AuxK, Gao et
al. 2024; W_enc initialised as W_dec^T, decoder rows kept at unit norm); this file holds the
text recipe's settings, the activations it reads and the SAELens folder it writes.
"""
from __future__ import annotations

import os
import time

import numpy as np
import torch

from common import saelens, safetensors
from common.topk_sae import TopKSAE, TopKTrain, train_topk


@torch.no_grad()
def collect_activations(model, stream: np.ndarray, n_tokens: int, ctx: int, seed: int, device: str,
                        batch: int = 16) -> torch.Tensor:
    """Residual stream at the hook for random windows of the stream, [n_tokens, d_model] float32."""
    g = torch.Generator().manual_seed(seed)
    out, have = [], 0
    while have < n_tokens:
        starts = torch.randint(0, len(stream) - ctx, (batch,), generator=g).numpy()
        x = torch.from_numpy(np.stack([stream[s:s + ctx].astype(np.int64) for s in starts])).to(device)
        h = model(x, stop_at_hook=True).reshape(-1, model.cfg.d_model).float().cpu()
        out.append(h)
        have += h.shape[0]
    return torch.cat(out)[:n_tokens]


def train_sae(acts: torch.Tensor, d_sae: int, k: int, *, steps: int, batch: int, lr: float, seed: int,
              device: str, log=print, dead_after_tokens: int = 200_000) -> TopKSAE:
    """The text recipe's choices for common.topk_sae: random unit decoder rows, b_dec at the
    median, linear decay over the last 20%, AuxK 1/32 (also used by models/recipes/hf)."""
    cfg = TopKTrain(d_sae=d_sae, k=k, steps=steps, batch=batch, lr=lr, dead_after=dead_after_tokens, log_every=200)
    sae, _ = train_topk(acts, cfg, seed, device=device, log=log)
    return sae


def shipped_weights(sae: TopKSAE) -> dict:
    """The tensors as shipped (fp16), SAELens names and shapes."""
    return sae.weights(np.float16)


def load_shipped(path: str, k: int) -> TopKSAE:
    return TopKSAE.from_weights(safetensors.load_file(path), k)


def sae_cfg(cfg_lm, d_sae: int, k: int, pack_id: str, context: int) -> dict:
    return saelens.topk_cfg(
        d_in=cfg_lm.d_model, d_sae=d_sae, k=k, hook=cfg_lm.hook_name, hook_layer=cfg_lm.hook_layer,
        model_name=pack_id, context_size=context, prepend_bos=True,
        dataset="models/recipes/text (Debian: fortunes, bible-kjv-text, dict-gcide, jargon-text)",
        trained_by="models/recipes/text/sae.py")


def sae_dir(c, layer: int | None = None) -> str:
    """The SAELens folder of the SAE at `layer` (default the first hook)."""
    return c.o("sae", f"blocks.{c.hooks()[0] if layer is None else layer}.hook_resid_post")


def stage(c):
    """One SAE per hook (c.hooks()), each on the residual after its block."""
    from dataclasses import replace
    from lm_train import load_lm
    from model import at_hook
    model, _ = load_lm(c.work, c.device)
    tr = np.load(c.w("tokens_train.npy"))
    for layer in c.hooks():
        cfg = replace(model.cfg, hook_layer=layer)
        t = time.time()
        with at_hook(model, layer):
            acts = collect_activations(model, tr, c.s["sae_tokens"], cfg.context, c.seed + 11, c.device)
        c.log(f"sae {cfg.hook_name}: {acts.shape[0]} activations in {time.time()-t:.0f}s, "
              f"mean norm {acts.norm(dim=1).mean():.2f}")
        steps = max(10, int(c.s["sae_passes"] * c.s["sae_tokens"] // c.s["sae_batch"]))
        sae = train_sae(acts, c.s["d_sae"], c.s["k"], steps=steps, batch=c.s["sae_batch"], lr=c.s["sae_lr"],
                        seed=c.seed + 13, device=c.device, log=c.log,
                        dead_after_tokens=min(100_000, c.s["sae_tokens"] // 4))
        d = sae_dir(c, layer)
        os.makedirs(d, exist_ok=True)
        saelens.write(d, sae, sae_cfg(cfg, c.s["d_sae"], c.s["k"], c.s["pack_id"], cfg.context),
                      weights_dtype=np.float16)
        c.log(f"sae: saved {d}")
