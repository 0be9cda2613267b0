"""TopK sparse autoencoder on the hook's residual stream, saved in SAELens's format.

f = TopK(ReLU((x - b_dec) W_enc + b_enc)),  x̂ = f W_dec + b_dec   (SAELens architecture "topk").
Training: normalised MSE plus an AuxK loss that lets dead latents model the residual
(Gao et al., 2024), W_enc initialised as W_dec^T, decoder rows kept at unit norm.
"""
from __future__ import annotations

import json
import os
import time

import numpy as np
import torch
import torch.nn as nn

import st_io


class TopKSAE(nn.Module):
    def __init__(self, d_in: int, d_sae: int, k: int, seed: int):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        w = torch.randn(d_sae, d_in, generator=g)
        w = w / w.norm(dim=1, keepdim=True)
        self.W_dec = nn.Parameter(w)                 # [d_sae, d_in]
        self.W_enc = nn.Parameter(w.t().clone())     # [d_in, d_sae]
        self.b_enc = nn.Parameter(torch.zeros(d_sae))
        self.b_dec = nn.Parameter(torch.zeros(d_in))
        self.k = k

    def pre(self, x):
        return (x - self.b_dec) @ self.W_enc + self.b_enc

    def encode_sparse(self, x):
        """x [N, d_in] → values [N, k] (≥ 0), indices [N, k]."""
        vals, idx = self.pre(x).topk(self.k, dim=-1)
        return torch.relu(vals), idx

    def encode(self, x):
        vals, idx = self.encode_sparse(x)
        return torch.zeros(x.shape[0], self.W_dec.shape[0], device=x.device).scatter_(1, idx, vals)

    def decode_sparse(self, vals, idx):
        return torch.einsum("nk,nkd->nd", vals, self.W_dec[idx]) + self.b_dec

    def forward(self, x):
        vals, idx = self.encode_sparse(x)
        return self.decode_sparse(vals, idx)

    @torch.no_grad()
    def normalize_decoder(self):
        self.W_dec.data /= self.W_dec.data.norm(dim=1, keepdim=True).clamp_min(1e-8)


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
    d_in = acts.shape[1]
    sae = TopKSAE(d_in, d_sae, k, seed).to(device)
    with torch.no_grad():
        sae.b_dec.copy_(acts[:20000].median(dim=0).values.to(device))
    opt = torch.optim.Adam(sae.parameters(), lr=lr, betas=(0.9, 0.999))
    g = torch.Generator().manual_seed(seed + 7)
    var = acts[:50000].var(dim=0).sum().item()
    since_fired = torch.zeros(d_sae, dtype=torch.long, device=device)
    k_aux = min(d_in // 2, d_sae)
    t0 = time.time()
    perm = torch.randperm(len(acts), generator=g)
    pos = 0
    for step in range(steps):
        if pos + batch > len(perm):
            perm, pos = torch.randperm(len(acts), generator=g), 0
        x = acts[perm[pos:pos + batch]].to(device)
        pos += batch
        lr_now = lr * min(1.0, (steps - step) / (0.2 * steps))  # linear decay over the last 20%
        for gr in opt.param_groups:
            gr["lr"] = lr_now
        pre = sae.pre(x)
        vals, idx = pre.topk(k, dim=-1)
        vals = torch.relu(vals)
        x_hat = torch.einsum("nk,nkd->nd", vals, sae.W_dec[idx]) + sae.b_dec
        err = x - x_hat
        mse = err.pow(2).sum(-1).mean() / var
        fired = torch.zeros(d_sae, dtype=torch.bool, device=device)
        fired[idx[vals > 0]] = True
        since_fired += batch
        since_fired[fired] = 0
        dead = since_fired > dead_after_tokens
        aux = torch.zeros((), device=device)
        n_dead = int(dead.sum())
        if n_dead > 0:
            dead_idx = torch.nonzero(dead).flatten()
            av, ai = pre[:, dead_idx].topk(min(k_aux, n_dead), dim=-1)  # only the dead columns
            ai = dead_idx[ai]
            av = torch.relu(av)
            e_hat = torch.einsum("nk,nkd->nd", av, sae.W_dec[ai])
            e = err.detach()
            aux = (e - e_hat).pow(2).sum(-1).mean() / e.pow(2).sum(-1).mean().clamp_min(1e-8)
        loss = mse + aux / 32
        opt.zero_grad(set_to_none=True)
        loss.backward()
        # keep the update tangent to the unit-norm constraint of the decoder rows
        with torch.no_grad():
            w = sae.W_dec
            w.grad -= (w.grad * w).sum(1, keepdim=True) * w
        opt.step()
        sae.normalize_decoder()
        if step % 200 == 0 or step == steps - 1:
            log(f"sae step {step}/{steps} fve {1-mse.item():.4f} aux {aux.item():.3f} dead {n_dead} "
                f"lr {lr_now:.1e} {(step+1)*batch/(time.time()-t0):.0f} tok/s")
    return sae


def shipped_weights(sae: TopKSAE) -> dict:
    """The tensors as shipped (fp16), SAELens names and shapes."""
    return {
        "W_enc": sae.W_enc.detach().cpu().numpy().astype(np.float16),   # [d_in, d_sae]
        "W_dec": sae.W_dec.detach().cpu().numpy().astype(np.float16),   # [d_sae, d_in]
        "b_enc": sae.b_enc.detach().cpu().numpy().astype(np.float16),   # [d_sae]
        "b_dec": sae.b_dec.detach().cpu().numpy().astype(np.float16),   # [d_in]
    }


def load_shipped(path: str, k: int) -> TopKSAE:
    t = st_io.load_file(path)
    d_in, d_sae = t["W_enc"].shape
    sae = TopKSAE(d_in, d_sae, k, 0)
    with torch.no_grad():
        for n in ("W_enc", "W_dec", "b_enc", "b_dec"):
            getattr(sae, n).copy_(torch.from_numpy(t[n].astype(np.float32)))
    sae.eval()
    return sae


def sae_cfg(cfg_lm, d_sae: int, k: int, pack_id: str, context: int) -> dict:
    hook = cfg_lm.hook_name
    return {
        "architecture": "topk",
        "d_in": cfg_lm.d_model,
        "d_sae": d_sae,
        "k": k,
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
        "reshape_activations": "none",
        "hook_name": hook,
        "hook_layer": cfg_lm.hook_layer,
        "hook_head_index": None,
        "model_name": pack_id,
        "context_size": context,
        "prepend_bos": True,
        "dataset_path": "models/recipes/text (Debian: fortunes, bible-kjv-text, dict-gcide, jargon-text)",
        "metadata": {
            "model_name": pack_id,
            "hook_name": hook,
            "hook_head_index": None,
            "context_size": context,
            "prepend_bos": True,
            "sae_lens_training_version": None,
            "trained_by": "models/recipes/text/sae.py",
        },
    }


def sae_dir(c) -> str:
    return c.o("sae", c.lm_config().hook_name)


def stage(c):
    from lm_train import load_lm
    model, _ = load_lm(c.work, c.device)
    cfg = model.cfg
    tr = np.load(c.w("tokens_train.npy"))
    t = time.time()
    acts = collect_activations(model, tr, c.s["sae_tokens"], cfg.context, c.seed + 11, c.device)
    c.log(f"sae: {acts.shape[0]} activations in {time.time()-t:.0f}s, mean norm {acts.norm(dim=1).mean():.2f}")
    steps = max(10, int(c.s["sae_passes"] * c.s["sae_tokens"] // c.s["sae_batch"]))
    sae = train_sae(acts, c.s["d_sae"], c.s["k"], steps=steps, batch=c.s["sae_batch"], lr=c.s["sae_lr"],
                    seed=c.seed + 13, device=c.device, log=c.log,
                    dead_after_tokens=min(100_000, c.s["sae_tokens"] // 4))
    d = sae_dir(c)
    os.makedirs(d, exist_ok=True)
    st_io.save_file(shipped_weights(sae), os.path.join(d, "sae_weights.safetensors"))
    json.dump(sae_cfg(cfg, c.s["d_sae"], c.s["k"], c.s["pack_id"], cfg.context),
              open(os.path.join(d, "cfg.json"), "w"), indent=1)
    torch.save(sae.state_dict(), c.w("sae_fp32.pt"))
    c.log(f"sae: saved {d}")
