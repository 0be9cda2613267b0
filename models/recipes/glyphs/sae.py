"""TopK sparse autoencoder (with AuxK for dead features) in SAELens's on-disk format, plus a
minimal safetensors writer/reader (no Python safetensors package on Debian)."""
from __future__ import annotations

import json
import math
import os
import struct

import numpy as np
import torch

_DT = {np.dtype("float32"): "F32", np.dtype("float16"): "F16", np.dtype("int64"): "I64"}
_ND = {v: k for k, v in _DT.items()}


def save_safetensors(path: str, tensors: dict, metadata: dict | None = None):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        b = a.tobytes()
        header[name] = {"dtype": _DT[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def load_safetensors(path: str) -> dict:
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        out[k] = np.frombuffer(data[s:e], dtype=_ND[v["dtype"]]).reshape(v["shape"]).copy()
    return out


class TopKSAE(torch.nn.Module):
    """SAELens 'topk': z = TopK(ReLU-free pre-acts) then ReLU on the kept values;
    x_hat = z @ W_dec + b_dec; input is x - b_dec (apply_b_dec_to_input)."""

    def __init__(self, d_in: int, d_sae: int, k: int):
        super().__init__()
        self.d_in, self.d_sae, self.k = d_in, d_sae, k
        w = torch.randn(d_sae, d_in)
        w = w / w.norm(dim=1, keepdim=True) * 0.5
        self.W_dec = torch.nn.Parameter(w.clone())
        self.W_enc = torch.nn.Parameter(w.t().clone())   # decoder init: W_enc = W_dec^T
        self.b_enc = torch.nn.Parameter(torch.zeros(d_sae))
        self.b_dec = torch.nn.Parameter(torch.zeros(d_in))

    def pre(self, x):
        return (x - self.b_dec) @ self.W_enc + self.b_enc

    def encode(self, x):
        h = self.pre(x)
        v, i = h.topk(self.k, dim=-1)
        return torch.zeros_like(h).scatter(-1, i, torch.relu(v))

    def decode(self, z):
        return z @ self.W_dec + self.b_dec

    def forward(self, x):
        return self.decode(self.encode(x))

    @torch.no_grad()
    def normalise_decoder(self):
        self.W_dec.data /= self.W_dec.data.norm(dim=1, keepdim=True).clamp(min=1e-8)


def train_sae(x: np.ndarray, d_sae: int, k: int, steps: int, seed: int, batch: int = 512,
              lr: float = 1e-3, k_aux: int | None = None, dead_after: int = 10000,
              resample_every: int = 250, aux_coef: float = 1 / 8, balance: float = 0.0, log=print):
    """x: [N, d_in] float32 samples of the hook. Returns the trained TopKSAE.

    Decoder init from data (each row a centred sample, unit norm; W_enc = W_dec^T), AuxK on the
    features dead for `dead_after` samples, and (until 70% of the steps) dead features are
    re-pointed at the worst-reconstructed samples of a batch. balance > 0 nudges b_enc after each
    step for features firing under a quarter of the mean rate k / d_sae (a one-sided version of
    the load balancing of mixture-of-experts routers), so no feature stays dead while broad
    features keep their rate."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    X0 = torch.from_numpy(x.astype(np.float32))
    n, d = X0.shape
    # train on x * c (centred norm sqrt(d)); the scale is folded back into the weights at the end
    c = float(math.sqrt(d) / (X0 - X0.mean(0)).norm(dim=1).mean().clamp(min=1e-12))
    X = X0 * c
    sae = TopKSAE(d, d_sae, k)
    mean = X.mean(0)
    sae.b_dec.data = mean.clone()
    with torch.no_grad():
        rows = X[torch.randint(0, n, (d_sae,), generator=g)] - mean
        rows = rows + 0.05 * rows.norm(dim=1, keepdim=True).mean() * torch.randn(d_sae, d, generator=g) / math.sqrt(d)
        sae.W_dec.data = rows / rows.norm(dim=1, keepdim=True).clamp(min=1e-8)
        sae.W_enc.data = sae.W_dec.data.t().clone()
        xc = X[: min(n, 4096)]
        r = sae(xc) - sae.b_dec
        sae.W_enc.data *= (xc - mean).norm(dim=1).mean() / r.norm(dim=1).mean().clamp(min=1e-6)
    opt = torch.optim.Adam(sae.parameters(), lr=lr, betas=(0.9, 0.999))
    k_aux = k_aux or min(d_sae // 2, 4 * d)
    since = torch.zeros(d_sae)
    var = ((X - mean) ** 2).sum(1).mean()
    n_resampled = 0
    for step in range(steps):
        idx = torch.randint(0, n, (batch,), generator=g)
        xb = X[idx]
        h = sae.pre(xb)
        v, i = h.topk(k, dim=-1)
        z = torch.zeros_like(h).scatter(-1, i, torch.relu(v))
        xh = sae.decode(z)
        mse = ((xh - xb) ** 2).sum(1).mean() / var
        fired = (z > 0).any(0)
        since = torch.where(fired, torch.zeros_like(since), since + batch)
        dead = since > dead_after
        loss = mse
        if dead.any():
            # AuxK: the dead features' top-k_aux pre-acts reconstruct the residual
            e = (xb - xh).detach()
            hd = h.masked_fill(~dead, -float("inf"))
            ka = int(min(k_aux, int(dead.sum())))
            vd, idd = hd.topk(ka, dim=-1)
            zd = torch.zeros_like(h).scatter(-1, idd, torch.relu(vd))
            eh = zd @ sae.W_dec
            aux = ((eh - e) ** 2).sum(1).mean() / ((e - e.mean(0)) ** 2).sum(1).mean().clamp(min=1e-8)
            loss = loss + aux_coef * aux
        frac = step / max(1, steps)
        for pg in opt.param_groups:
            pg["lr"] = lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        opt.zero_grad()
        loss.backward()
        # remove the gradient parallel to decoder rows (they stay unit norm)
        with torch.no_grad():
            wd = sae.W_dec
            wd.grad -= (wd.grad * wd.data).sum(1, keepdim=True) * wd.data
        opt.step()
        sae.normalise_decoder()
        if balance > 0:
            with torch.no_grad():
                # one-sided: only features firing under a quarter of the mean rate get a higher
                # bias; dense (broad) features keep theirs
                rate = (z > 0).float().mean(0)
                floor = 0.25 * k / d_sae
                sae.b_enc.data += balance * torch.clamp(floor - rate, min=0.0) * d_sae / k
        if resample_every and step > 0 and step % resample_every == 0 and frac < 0.7 and dead.any():
            with torch.no_grad():
                dd = torch.nonzero(dead).squeeze(1)
                err = ((xh - xb) ** 2).sum(1)
                # new directions: the worst-reconstructed samples (centred), tiny noise to split ties
                pick = torch.multinomial(err + 1e-12, len(dd), replacement=True, generator=g)
                r = xb[pick] - sae.b_dec
                r = r + 0.05 * r.norm(dim=1, keepdim=True) * torch.randn(r.shape, generator=g) / math.sqrt(d)
                r = r / r.norm(dim=1, keepdim=True).clamp(min=1e-8)
                alive = ~dead
                enc_norm = sae.W_enc.data[:, alive].norm(dim=0).mean() if alive.any() else 1.0
                sae.W_dec.data[dd] = r
                sae.W_enc.data[:, dd] = r.t() * enc_norm * 0.5
                sae.b_enc.data[dd] = 0.0
                # reset Adam state of the touched parameters
                for p_ in (sae.W_dec, sae.W_enc, sae.b_enc):
                    stt = opt.state.get(p_, {})
                    for key in ("exp_avg", "exp_avg_sq"):
                        if key in stt:
                            if p_ is sae.W_enc:
                                stt[key][:, dd] = 0
                            else:
                                stt[key][dd] = 0
                since[dd] = 0
                n_resampled += len(dd)
        if step % max(1, steps // 10) == 0 or step == steps - 1:
            log(f"sae step {step}/{steps} nmse {mse.item():.4f} dead {int(dead.sum())} resampled {n_resampled}")
    with torch.no_grad():   # fold the input scale: same codes z for x as for x * c
        sae.W_enc.data *= c
        sae.W_dec.data /= c
        sae.b_dec.data /= c
    return sae


@torch.no_grad()
def sae_metrics(sae: TopKSAE, x: np.ndarray) -> dict:
    X = torch.from_numpy(x.astype(np.float32))
    z = sae.encode(X)
    xh = sae.decode(z)
    fve = 1.0 - float(((X - xh) ** 2).sum() / ((X - X.mean(0)) ** 2).sum())
    fired = (z > 0).float()
    density = fired.mean(0)
    return {
        "fve": fve,
        "dead_fraction": float((density == 0).float().mean()),
        "mean_l0": float(fired.sum(1).mean()),
        "n_samples": int(X.shape[0]),
        "density": density.numpy(),
    }


def write_saelens(dirpath: str, sae: TopKSAE, hook: str, density: np.ndarray, dataset: str,
                  dtype="float32", model_name="orrery-glyph-cvae"):
    os.makedirs(dirpath, exist_ok=True)
    np_dt = np.float16 if dtype == "float16" else np.float32
    save_safetensors(os.path.join(dirpath, "sae_weights.safetensors"), {
        "W_enc": sae.W_enc.detach().numpy().astype(np_dt),
        "W_dec": sae.W_dec.detach().numpy().astype(np_dt),
        "b_enc": sae.b_enc.detach().numpy().astype(np_dt),
        "b_dec": sae.b_dec.detach().numpy().astype(np_dt),
    })
    save_safetensors(os.path.join(dirpath, "sparsity.safetensors"), {
        "sparsity": np.log10(np.maximum(density, 1e-10)).astype(np.float32),
    })
    cfg = {
        "architecture": "topk",
        "d_in": sae.d_in,
        "d_sae": sae.d_sae,
        "k": sae.k,
        "activation_fn_str": "topk",
        "activation_fn_kwargs": {"k": sae.k},
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
        "finetuning_scaling_factor": False,
        "dtype": dtype,
        "device": "cpu",
        "model_name": model_name,
        "hook_name": hook,
        "hook_layer": 0,
        "hook_head_index": None,
        "context_size": 1,
        "prepend_bos": False,
        "dataset_path": dataset,
        "dataset_trust_remote_code": False,
        "sae_lens_training_version": None,
        "model_from_pretrained_kwargs": {},
        "seqpos_slice": [None],
        "neuronpedia_id": None,
    }
    with open(os.path.join(dirpath, "cfg.json"), "w") as f:
        json.dump(cfg, f, indent=2)
