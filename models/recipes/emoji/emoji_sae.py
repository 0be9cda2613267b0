"""TopK sparse autoencoders (Gao et al. 2024) with AuxK, saved in SAELens's on-disk format.

f = ReLU(TopK((x - b_dec) W_enc + b_enc)),  x_hat = f W_dec + b_dec
Decoder rows are kept at unit norm; W_enc starts as W_dec^T and b_dec at the data median.
AuxK: features that have not fired for `dead_after` samples reconstruct the residual with
their own top-k_aux, which pulls them back towards the data (few dead features).
"""
from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass

import numpy as np
import torch

_DTYPES = {np.dtype("float32"): "F32", np.dtype("float16"): "F16"}
_NP = {"F32": np.float32, "F16": np.float16}


def save_safetensors(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    header: dict = {}
    blobs, offset = [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        if arr.dtype not in _DTYPES:
            raise TypeError(f"{name}: unsupported dtype {arr.dtype}")
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _DTYPES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)))
        fh.write(raw)
        for data in blobs:
            fh.write(data)


def load_safetensors(path: str) -> dict[str, np.ndarray]:
    with open(path, "rb") as fh:
        buf = fh.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    base = 8 + n
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        a, b = spec["data_offsets"]
        out[name] = np.frombuffer(buf[base + a:base + b], dtype=_NP[spec["dtype"]]).reshape(spec["shape"])
    return out


@dataclass(frozen=True)
class SaeConfig:
    d_sae: int
    k: int
    steps: int
    batch: int = 512
    lr: float = 2e-3
    aux_k: int | None = None  # default d_in // 2
    aux_coef: float = 1 / 32
    dead_after: int = 20_000  # samples without firing before a feature counts as dead in training


class TopKSae(torch.nn.Module):
    def __init__(self, d_in: int, d_sae: int, k: int):
        super().__init__()
        self.d_in, self.d_sae, self.k = d_in, d_sae, k
        w_dec = torch.randn(d_sae, d_in)
        w_dec /= w_dec.norm(dim=1, keepdim=True)
        self.W_dec = torch.nn.Parameter(w_dec)
        self.W_enc = torch.nn.Parameter(w_dec.t().clone())
        self.b_enc = torch.nn.Parameter(torch.zeros(d_sae))
        self.b_dec = torch.nn.Parameter(torch.zeros(d_in))

    def pre(self, x):
        return (x - self.b_dec) @ self.W_enc + self.b_enc

    def encode(self, x, k: int | None = None):
        pre = self.pre(x)
        vals, idx = pre.topk(k or self.k, dim=-1)
        return torch.zeros_like(pre).scatter_(-1, idx, vals.relu())

    def decode(self, f):
        return f @ self.W_dec + self.b_dec

    @torch.no_grad()
    def normalize_decoder(self):
        self.W_dec /= self.W_dec.norm(dim=1, keepdim=True).clamp_min(1e-8)

    @torch.no_grad()
    def drop_parallel_grad(self):
        if self.W_dec.grad is not None:
            w = self.W_dec
            self.W_dec.grad -= (self.W_dec.grad * w).sum(1, keepdim=True) * w


def train_sae(x: torch.Tensor, cfg: SaeConfig, seed: int, log=print) -> tuple[TopKSae, dict]:
    """x: [N, d_in] float32 training activations."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    n, d_in = x.shape
    sae = TopKSae(d_in, cfg.d_sae, cfg.k)
    with torch.no_grad():
        median = x[torch.randperm(n, generator=g)[:20_000]].median(dim=0).values
        sae.b_dec.copy_(median)
    opt = torch.optim.Adam(sae.parameters(), lr=cfg.lr, betas=(0.9, 0.999))
    aux_k = cfg.aux_k or max(1, d_in // 2)
    since_fired = torch.zeros(cfg.d_sae)
    var = ((x - x.mean(0)) ** 2).sum(1).mean()
    for step in range(cfg.steps):
        lr = cfg.lr * min(1.0, (cfg.steps - step) / (0.2 * cfg.steps))  # linear decay over last 20%
        for group in opt.param_groups:
            group["lr"] = lr
        batch = x[torch.randint(0, n, (cfg.batch,), generator=g)]
        pre = sae.pre(batch)
        vals, idx = pre.topk(cfg.k, dim=-1)
        f = torch.zeros_like(pre).scatter_(-1, idx, vals.relu())
        recon = sae.decode(f)
        err = batch - recon
        mse = (err ** 2).sum(1).mean() / var
        fired = (f > 0).any(0)
        since_fired += cfg.batch
        since_fired[fired] = 0
        dead = since_fired > cfg.dead_after
        loss = mse
        if dead.any():
            k_aux = min(aux_k, int(dead.sum()))
            pre_dead = pre.masked_fill(~dead, -math.inf)
            av, ai = pre_dead.topk(k_aux, dim=-1)
            f_aux = torch.zeros_like(pre).scatter_(-1, ai, av.relu())
            e_hat = f_aux @ sae.W_dec
            aux = ((err.detach() - e_hat) ** 2).sum(1).mean() / (err.detach() ** 2).sum(1).mean().clamp_min(1e-8)
            loss = loss + cfg.aux_coef * aux
        opt.zero_grad(set_to_none=True)
        loss.backward()
        sae.drop_parallel_grad()
        opt.step()
        sae.normalize_decoder()
        if step % max(1, cfg.steps // 10) == 0 or step == cfg.steps - 1:
            log(f"  sae step {step}/{cfg.steps} nmse {mse.item():.4f} dead(train) {int(dead.sum())}")
    return sae, {"train_final_nmse": float(mse.item())}


@torch.no_grad()
def evaluate_sae(sae: TopKSae, x: torch.Tensor) -> dict:
    """FVE = 1 - sum||x - x_hat||^2 / sum||x - mean(x)||^2; dead = never fires on x."""
    mean = x.mean(0)
    err = total = l0 = 0.0
    fired = torch.zeros(sae.d_sae, dtype=torch.long)
    for c in x.split(8192):  # streamed: the dense codes of a big set do not fit in memory
        f = sae.encode(c)
        err += float(((c - sae.decode(f)) ** 2).sum(dtype=torch.float64))
        total += float(((c - mean) ** 2).sum(dtype=torch.float64))
        active = f > 0
        l0 += float(active.sum())
        fired += active.sum(0)
    return {
        "fve": 1.0 - err / total,
        "dead_fraction": float((fired == 0).float().mean()),
        "mean_l0": l0 / x.shape[0],
        "samples": int(x.shape[0]),
        "density": (fired.float() / x.shape[0]).numpy(),
    }


def save_saelens(sae: TopKSae, out_dir: str, hook_name: str, density: np.ndarray, model_name: str,
                 dataset: str, context_size: int) -> None:
    """SAELens's on-disk format: cfg.json + sae_weights.safetensors (+ sparsity.safetensors)."""
    os.makedirs(out_dir, exist_ok=True)
    tensors = {
        "W_enc": sae.W_enc.detach().numpy().astype(np.float32),
        "W_dec": sae.W_dec.detach().numpy().astype(np.float32),
        "b_enc": sae.b_enc.detach().numpy().astype(np.float32),
        "b_dec": sae.b_dec.detach().numpy().astype(np.float32),
    }
    save_safetensors(os.path.join(out_dir, "sae_weights.safetensors"), tensors, {"format": "pt"})
    log_density = np.log10(np.maximum(density, 1e-10)).astype(np.float32)
    save_safetensors(os.path.join(out_dir, "sparsity.safetensors"), {"sparsity": log_density}, {"format": "pt"})
    cfg = {
        "architecture": "topk",
        "d_in": sae.d_in,
        "d_sae": sae.d_sae,
        "k": sae.k,
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
        "reshape_activations": "none",
        "hook_name": hook_name,
        "hook_layer": 0,
        "hook_head_index": None,
        "model_name": model_name,
        "dataset_path": dataset,
        "context_size": context_size,
        "prepend_bos": False,
        "finetuning_scaling_factor": False,
        "activation_fn_str": "topk",
        "activation_fn_kwargs": {"k": sae.k},
        "metadata": {"hook_name": hook_name, "model_name": model_name, "context_size": context_size,
                     "dataset_path": dataset, "prepend_bos": False},
    }
    with open(os.path.join(out_dir, "cfg.json"), "w") as fh:
        json.dump(cfg, fh, indent=2)
        fh.write("\n")


def load_saelens(out_dir: str) -> TopKSae:
    with open(os.path.join(out_dir, "cfg.json")) as fh:
        cfg = json.load(fh)
    t = load_safetensors(os.path.join(out_dir, "sae_weights.safetensors"))
    sae = TopKSae(cfg["d_in"], cfg["d_sae"], cfg["k"])
    with torch.no_grad():
        for name in ("W_enc", "W_dec", "b_enc", "b_dec"):
            getattr(sae, name).copy_(torch.from_numpy(t[name].astype(np.float32)))
    return sae
