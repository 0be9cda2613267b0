"""TopK sparse autoencoder (SAELens architecture "topk", Gao et al. 2024) and its trainer,
shared by every recipe.

f = ReLU(TopK((x - b_dec) W_enc + b_enc)),  x_hat = f W_dec + b_dec.
Training: MSE normalised by the data's variance, plus AuxK (the features dead for
`dead_after` samples reconstruct the residual with their own top-k_aux), decoder rows kept at
unit norm (the gradient along each row is removed), W_enc initialised as W_dec^T.
The choices that differ between recipes are named options of TopKTrain, so each recipe states
its own: the decoder's initialisation (random unit rows, or centred data samples), b_dec's
(median or mean), the learning-rate schedule, input scaling, dead-feature resampling and the
one-sided firing-rate balance.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn


class TopKSAE(nn.Module):
    def __init__(self, d_in: int, d_sae: int, k: int, seed: int | None = None):
        super().__init__()
        self.d_in, self.d_sae, self.k = d_in, d_sae, k
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        w = torch.randn(d_sae, d_in, generator=g)
        w = w / w.norm(dim=1, keepdim=True)
        self.W_dec = nn.Parameter(w)                 # [d_sae, d_in]
        self.W_enc = nn.Parameter(w.t().clone())     # [d_in, d_sae]
        self.b_enc = nn.Parameter(torch.zeros(d_sae))
        self.b_dec = nn.Parameter(torch.zeros(d_in))

    def pre(self, x):
        return (x - self.b_dec) @ self.W_enc + self.b_enc

    def encode_sparse(self, x):
        """x [N, d_in] -> values [N, k] (>= 0), indices [N, k]."""
        vals, idx = self.pre(x).topk(self.k, dim=-1)
        return torch.relu(vals), idx

    def encode(self, x):
        pre = self.pre(x)
        vals, idx = pre.topk(self.k, dim=-1)
        return torch.zeros_like(pre).scatter_(-1, idx, vals.relu())

    def decode_sparse(self, vals, idx):
        return torch.einsum("nk,nkd->nd", vals, self.W_dec[idx]) + self.b_dec

    def decode(self, f):
        return f @ self.W_dec + self.b_dec

    def forward(self, x):
        return self.decode_sparse(*self.encode_sparse(x))

    @torch.no_grad()
    def normalize_decoder(self):
        self.W_dec.data /= self.W_dec.data.norm(dim=1, keepdim=True).clamp_min(1e-8)

    def weights(self, dtype=np.float32) -> dict:
        """The four tensors in SAELens's names and shapes, as numpy arrays of dtype."""
        return {n: getattr(self, n).detach().cpu().numpy().astype(dtype) for n in ("W_enc", "W_dec", "b_enc", "b_dec")}

    @classmethod
    def from_weights(cls, t: dict, k: int) -> "TopKSAE":
        d_in, d_sae = t["W_enc"].shape
        sae = cls(d_in, d_sae, k, seed=0)
        with torch.no_grad():
            for n in ("W_enc", "W_dec", "b_enc", "b_dec"):
                getattr(sae, n).copy_(torch.from_numpy(np.asarray(t[n], np.float32)))
        return sae.eval()


@dataclass(frozen=True)
class TopKTrain:
    d_sae: int
    k: int
    steps: int
    batch: int = 512
    lr: float = 1e-3
    aux_k: int | None = None        # default d_in // 2 (capped at d_sae)
    aux_coef: float = 1 / 32
    dead_after: int = 20_000        # samples without firing before a feature counts as dead
    init: str = "random"            # "random": unit Gaussian rows; "data": centred samples
    b_dec_init: str = "median"      # "median" or "mean" of the training data
    schedule: str = "decay"         # "decay": linear to 0 over the last 20%; "cosine": 100-step warm-up, cosine to 10%
    scale_inputs: bool = False      # train on x*c (centred norm sqrt(d_in)); c folded back into the weights
    resample_every: int = 0         # > 0: re-point dead features at badly reconstructed samples (until 70%)
    balance: float = 0.0            # > 0: raise b_enc of features firing under a quarter of k/d_sae
    log_every: int = 0              # 0: ten lines per run


def _lr_at(cfg: TopKTrain, step: int) -> float:
    if cfg.schedule == "cosine":
        frac = step / max(1, cfg.steps)
        return cfg.lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
    return cfg.lr * min(1.0, (cfg.steps - step) / (0.2 * cfg.steps))


def train_topk(x: torch.Tensor | np.ndarray, cfg: TopKTrain, seed: int, device: str = "cpu",
               log=print) -> tuple[TopKSAE, dict]:
    """x: [N, d_in] float32 training activations (kept on the CPU; batches move to device).
    Returns the trained SAE (on the CPU, eval mode) and a few training figures."""
    X = torch.as_tensor(np.asarray(x, np.float32) if isinstance(x, np.ndarray) else x).float()
    n, d = X.shape
    g = torch.Generator().manual_seed(seed)
    sample = X[torch.randperm(n, generator=g)[:50_000]]
    c = 1.0
    if cfg.scale_inputs:
        c = float(math.sqrt(d) / (sample - sample.mean(0)).norm(dim=1).mean().clamp(min=1e-12))
    sae = TopKSAE(d, cfg.d_sae, cfg.k, seed)
    with torch.no_grad():
        s = sample * c
        centre = s.mean(0) if cfg.b_dec_init == "mean" else s[:20_000].median(dim=0).values
        sae.b_dec.copy_(centre)
        if cfg.init == "data":  # each row a centred sample (plus a little noise), unit norm
            rows = X[torch.randint(0, n, (cfg.d_sae,), generator=g)] * c - centre
            rows = rows + 0.05 * rows.norm(dim=1, keepdim=True).mean() * torch.randn(cfg.d_sae, d, generator=g) / math.sqrt(d)
            sae.W_dec.data = rows / rows.norm(dim=1, keepdim=True).clamp(min=1e-8)
            sae.W_enc.data = sae.W_dec.data.t().clone()
            xc = s[:4096]
            r = sae(xc) - sae.b_dec
            sae.W_enc.data *= (xc - centre).norm(dim=1).mean() / r.norm(dim=1).mean().clamp(min=1e-6)
        var = ((s - s.mean(0)) ** 2).sum(1).mean().item()
    sae = sae.to(device)
    opt = torch.optim.Adam(sae.parameters(), lr=cfg.lr, betas=(0.9, 0.999))
    k_aux = min(cfg.aux_k or max(1, d // 2), cfg.d_sae)
    since_fired = torch.zeros(cfg.d_sae, device=device)
    every = cfg.log_every or max(1, cfg.steps // 10)
    t0, n_resampled, mse, n_dead = time.time(), 0, torch.zeros(()), 0
    for step in range(cfg.steps):
        lr = _lr_at(cfg, step)
        for group in opt.param_groups:
            group["lr"] = lr
        xb = (X[torch.randint(0, n, (cfg.batch,), generator=g)] * c).to(device)
        pre = sae.pre(xb)
        vals, idx = pre.topk(cfg.k, dim=-1)
        f = torch.zeros_like(pre).scatter_(-1, idx, vals.relu())
        recon = sae.decode(f)
        err = xb - recon
        mse = (err ** 2).sum(1).mean() / var
        fired = (f > 0).any(0)
        since_fired += cfg.batch
        since_fired[fired] = 0
        dead = since_fired > cfg.dead_after
        n_dead = int(dead.sum())
        loss = mse
        if n_dead:
            av, ai = pre.masked_fill(~dead, -math.inf).topk(min(k_aux, n_dead), dim=-1)
            e_hat = torch.zeros_like(pre).scatter_(-1, ai, av.relu()) @ sae.W_dec
            e = err.detach()
            aux = ((e - e_hat) ** 2).sum(1).mean() / (e ** 2).sum(1).mean().clamp_min(1e-8)
            loss = loss + cfg.aux_coef * aux
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():  # keep the update tangent to the unit-norm rows of the decoder
            w = sae.W_dec
            w.grad -= (w.grad * w).sum(1, keepdim=True) * w
        opt.step()
        sae.normalize_decoder()
        if cfg.balance > 0:
            with torch.no_grad():
                rate = (f > 0).float().mean(0)
                floor = 0.25 * cfg.k / cfg.d_sae
                sae.b_enc.data += cfg.balance * torch.clamp(floor - rate, min=0.0) * cfg.d_sae / cfg.k
        if cfg.resample_every and step > 0 and step % cfg.resample_every == 0 and step < 0.7 * cfg.steps and n_dead:
            n_resampled += _resample(sae, opt, dead, xb, err, g)
            since_fired[dead] = 0
        if step % every == 0 or step == cfg.steps - 1:
            log(f"sae step {step}/{cfg.steps} fve {1 - mse.item():.4f} dead {n_dead} lr {lr:.1e} "
                f"{(step + 1) * cfg.batch / max(1e-9, time.time() - t0):.0f} samples/s")
    sae = sae.cpu().eval()
    if c != 1.0:
        with torch.no_grad():  # fold the input scale: the same codes for x as for x * c
            sae.W_enc.data *= c
            sae.W_dec.data /= c
            sae.b_dec.data /= c
    return sae, {"train_final_nmse": float(mse.item()), "train_dead_at_end": n_dead,
                 "resampled": n_resampled, "input_scale": c}


@torch.no_grad()
def _resample(sae: TopKSAE, opt, dead: torch.Tensor, xb: torch.Tensor, err: torch.Tensor, g) -> int:
    """Dead features take the directions of the worst-reconstructed samples of the batch."""
    dd = torch.nonzero(dead).squeeze(1)
    d = xb.shape[1]
    pick = torch.multinomial((err ** 2).sum(1).cpu() + 1e-12, len(dd), replacement=True, generator=g)
    r = xb[pick.to(xb.device)] - sae.b_dec
    r = r + 0.05 * r.norm(dim=1, keepdim=True) * torch.randn(r.shape, generator=g).to(r.device) / math.sqrt(d)
    r = r / r.norm(dim=1, keepdim=True).clamp(min=1e-8)
    alive = ~dead
    enc_norm = sae.W_enc.data[:, alive].norm(dim=0).mean() if alive.any() else 1.0
    sae.W_dec.data[dd] = r
    sae.W_enc.data[:, dd] = r.t() * enc_norm * 0.5
    sae.b_enc.data[dd] = 0.0
    for p in (sae.W_dec, sae.W_enc, sae.b_enc):  # Adam forgets the touched features
        st = opt.state.get(p, {})
        for key in ("exp_avg", "exp_avg_sq"):
            if key in st:
                if p is sae.W_enc:
                    st[key][:, dd] = 0
                else:
                    st[key][dd] = 0
    return len(dd)


@torch.no_grad()
def evaluate(sae: TopKSAE, x: torch.Tensor | np.ndarray) -> dict:
    """FVE = 1 - sum||x - x_hat||^2 / sum||x - mean(x)||^2; dead = never fires on x; density
    = each feature's firing rate on x (numpy)."""
    X = torch.as_tensor(np.asarray(x, np.float32) if isinstance(x, np.ndarray) else x).float()
    mean = X.mean(0)
    err = total = l0 = 0.0
    fired = torch.zeros(sae.d_sae, dtype=torch.long)
    for c in X.split(8192):  # streamed: the dense codes of a big set do not fit in memory
        f = sae.encode(c)
        err += float(((c - sae.decode(f)) ** 2).sum(dtype=torch.float64))
        total += float(((c - mean) ** 2).sum(dtype=torch.float64))
        active = f > 0
        l0 += float(active.sum())
        fired += active.sum(0)
    return {"fve": 1.0 - err / max(total, 1e-30), "dead_fraction": float((fired == 0).float().mean()),
            "mean_l0": l0 / max(1, X.shape[0]), "samples": int(X.shape[0]),
            "density": (fired.float() / max(1, X.shape[0])).numpy()}
