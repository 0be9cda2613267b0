"""SAELens-format SAEs on the tiny HF models' residual stream, activations read by torch forward hooks.

  gpt2-tiny:  standard (ReLU + L1) SAE at blocks.1.hook_resid_pre.
  llama-tiny: TopK SAE at blocks.1.hook_resid_post, trained on per-token mean-centred activations
              (x - mean over d_model), with model_from_pretrained_kwargs.center_writing_weights = true in
              its cfg: SAELens users get such SAEs from TransformerLens models loaded with that option,
              and an engine reading raw HF activations must centre them before encoding.
Written as cfg.json + sae_weights.safetensors (float32) in SAELens's layout.
"""
from __future__ import annotations

import json
import os
import time

import numpy as np
import torch

from common import safetensors
from hf_models import hook_modules
from sae import train_sae as train_topk


def centre(x: torch.Tensor) -> torch.Tensor:
    return x - x.mean(-1, keepdim=True)


@torch.no_grad()
def collect(model, stream: np.ndarray, hook: str, bos_id: int, *, n_tokens: int, ctx: int, seed: int,
            batch: int = 16) -> torch.Tensor:
    """Hook activations [n_tokens, d] for random windows of ctx tokens, each starting with BOS
    (prepend_bos); the BOS position itself is left out of the training data."""
    from hf_train import full_forward
    g = torch.Generator().manual_seed(seed)
    got: list[torch.Tensor] = []
    mod = hook_modules(model)[hook]
    h = mod.register_forward_hook(lambda _m, _i, out: got.append(out[:, 1:].reshape(-1, out.shape[-1]).clone()))
    try:
        have = 0
        while have < n_tokens:
            starts = torch.randint(0, len(stream) - ctx, (batch,), generator=g).numpy()
            x = np.stack([np.concatenate([[bos_id], stream[s:s + ctx - 1]]) for s in starts]).astype(np.int64)
            full_forward(model, torch.from_numpy(x))
            have += got[-1].shape[0]
    finally:
        h.remove()
    return torch.cat(got)[:n_tokens]


class StandardSAE(torch.nn.Module):
    """SAELens "standard": f = ReLU((x - b_dec) W_enc + b_enc), x̂ = f W_dec + b_dec."""

    def __init__(self, d_in: int, d_sae: int, seed: int):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        w = torch.randn(d_sae, d_in, generator=g)
        w = w / w.norm(dim=1, keepdim=True) * 0.5
        self.W_dec = torch.nn.Parameter(w)
        self.W_enc = torch.nn.Parameter(w.t().clone())
        self.b_enc = torch.nn.Parameter(torch.zeros(d_sae))
        self.b_dec = torch.nn.Parameter(torch.zeros(d_in))

    def encode(self, x):
        return torch.relu((x - self.b_dec) @ self.W_enc + self.b_enc)

    def forward(self, x):
        return self.encode(x) @ self.W_dec + self.b_dec


def train_standard(acts: torch.Tensor, d_sae: int, *, steps: int, batch: int, lr: float, l1: float, seed: int,
                   log) -> StandardSAE:
    sae = StandardSAE(acts.shape[1], d_sae, seed)
    with torch.no_grad():
        sae.b_dec.copy_(acts.mean(0))
    var = (acts - acts.mean(0)).pow(2).sum(-1).mean()
    opt = torch.optim.Adam(sae.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed + 1)
    t0 = time.time()
    for step in range(steps):
        x = acts[torch.randint(0, len(acts), (batch,), generator=g)]
        f = sae.encode(x)
        mse = (f @ sae.W_dec + sae.b_dec - x).pow(2).sum(-1).mean() / var
        coeff = l1 * min(1.0, (step + 1) / (0.05 * steps))  # L1 warm-up
        sparsity = (f * sae.W_dec.norm(dim=1)).sum(-1).mean() / var.sqrt()
        loss = mse + coeff * sparsity
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 500 == 0 or step == steps - 1:
            l0 = (f > 0).float().sum(-1).mean().item()
            log(f"sae step {step}/{steps} fve {1 - mse.item():.4f} l0 {l0:.1f} "
                f"({(step + 1) * batch / (time.time() - t0):.0f} act/s)")
    return sae


@torch.no_grad()
def fve(sae, x: torch.Tensor) -> float:
    """Fraction of variance explained on x (against x's own mean)."""
    err = (sae(x) - x).pow(2).sum()
    return float(1 - err / (x - x.mean(0)).pow(2).sum())


@torch.no_grad()
def l0(sae, x: torch.Tensor) -> float:
    f = sae.encode(x)
    return float((f > 0).float().sum(-1).mean())


def weights(sae) -> dict:
    return {n: getattr(sae, n).detach().numpy().astype(np.float32) for n in ("W_enc", "W_dec", "b_enc", "b_dec")}


def cfg(*, architecture: str, d_in: int, d_sae: int, hook: str, model_name: str, context: int,
        k: int | None, center: bool) -> dict:
    kwargs = {"center_writing_weights": True} if center else {}
    c = {
        "architecture": architecture,
        "d_in": d_in,
        "d_sae": d_sae,
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
        "reshape_activations": "none",
        "hook_name": hook,
        "hook_layer": int(hook.split(".")[1]),
        "hook_head_index": None,
        "model_name": model_name,
        "context_size": context,
        "prepend_bos": True,
        "model_from_pretrained_kwargs": kwargs,
        "dataset_path": "models/recipes/text corpus (Debian: fortunes, bible-kjv-text, dict-gcide, jargon-text)",
        "metadata": {
            "model_name": model_name,
            "hook_name": hook,
            "hook_head_index": None,
            "context_size": context,
            "prepend_bos": True,
            "model_from_pretrained_kwargs": kwargs,
            "sae_lens_training_version": None,
            "trained_by": "models/recipes/hf/recipe.py",
        },
    }
    if k is not None:
        c["k"] = k
    return c


def save(sae, folder: str, config: dict) -> None:
    os.makedirs(folder, exist_ok=True)
    safetensors.save_file(weights(sae), os.path.join(folder, "sae_weights.safetensors"))
    with open(os.path.join(folder, "cfg.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


@torch.no_grad()
def prompt_features(sae, hook_values: torch.Tensor, center: bool, top: int = 8) -> list:
    """Per prompt position: the top features as [index, activation] (activation > 0 only)."""
    x = centre(hook_values) if center else hook_values
    f = sae.encode(x)
    out = []
    for row in f:
        vals, idx = row.topk(top)
        out.append([[int(i), float(f"{float(v):.7g}")] for v, i in zip(vals, idx) if v > 0])
    return out


def train_for(style: str, model, stream: np.ndarray, bos_id: int, s: dict, seed: int, log):
    """Trains the style's SAE. Returns (sae, hook, center, figures)."""
    if style == "gpt2":
        hook, center = "blocks.1.hook_resid_pre", False
    else:
        hook, center = "blocks.1.hook_resid_post", True
    acts = collect(model, stream, hook, bos_id, n_tokens=s["sae_tokens"], ctx=s["sae_ctx"], seed=seed)
    held = collect(model, stream, hook, bos_id, n_tokens=4096, ctx=s["sae_ctx"], seed=seed + 99)
    x, xh = (centre(acts), centre(held)) if center else (acts, held)
    log(f"sae {style}: {len(acts)} activations at {hook}, mean norm {acts.norm(dim=1).mean():.3f}")
    if style == "gpt2":
        sae = train_standard(x, s["d_sae"], steps=s["sae_steps"], batch=256, lr=3e-3, l1=s["l1"], seed=seed,
                             log=log)
        k = None
    else:
        k = s["k"]
        sae = train_topk(x, s["d_sae"], k, steps=s["sae_steps"], batch=256, lr=3e-3, seed=seed, device="cpu",
                         log=log, dead_after_tokens=50_000)
        sae.eval()
    figures = {"fve_held_out": round(fve(sae, xh), 4), "l0_held_out": round(l0(sae, xh), 2)}
    if center:
        figures["fve_held_out_without_centring"] = round(fve(sae, held), 4)
        with torch.no_grad():
            f_ok, f_raw = sae.encode(xh), sae.encode(held)
        figures["feature_rel_error_without_centring"] = round(float((f_raw - f_ok).norm() / f_ok.norm()), 4)
        figures["mean_abs_token_mean_over_norm"] = round(float((held.mean(-1).abs() * held.shape[1] ** 0.5 /
                                                               held.norm(dim=-1)).mean()), 4)
    log(f"sae {style}: {figures}")
    return sae, hook, center, k, figures

