#!/usr/bin/python3
"""Orrery emoji pack recipe: Noto Color Emoji -> convolutional VAE -> ONNX + TopK SAEs.

    /usr/bin/python3 models/recipes/emoji/recipe.py            # full pack into models/emoji/
    /usr/bin/python3 models/recipes/emoji/recipe.py --smoke    # every stage on a tiny slice, temp dir
    /usr/bin/python3 models/recipes/emoji/recipe.py --fixture  # tests/fixtures/packs/emoji-tiny/
    python3 models/recipes/emoji/recipe.py --preset gpu128 --device cuda --out DIR --work DIR  # 128 px on a GPU
    (--size 128 with --smoke runs the 128-px graphs on the tiny slice)

Stages (models/recipes/common/stages.py; each skipped when up to date, see `--stages`/`--force`):
data (render + split, cached in the work folder) -> vae (train; checkpointed after each epoch, a
killed run resumes there) -> pack (fp16 ONNX + parity vs onnxruntime-node, TopK SAEs on latent and
decoder.hook_spatial, PSNR/SSIM, FVE, dead, L0, metadata AUC, figures, manifest, examples sheet,
metrics.json with provenance) -> index (features.sqlite.br by the app's index build).
Uses Debian's python3-torch on one CPU thread (`--threads`); everything is seeded. `--reuse-vae` runs the later
stages on the work folder's vae.pt as it is.
"""
from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import math
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))  # models/recipes: the shared toolkit, common/

from common import index as pack_index, parity, saelens  # noqa: E402
from common.auc import auc_from_ranks, average_ranks  # noqa: E402
from common.ssim import ssim  # noqa: E402
from common.stages import Checkpoint, Stage, StageRunner  # noqa: E402
from common.topk_sae import TopKTrain, evaluate, train_topk  # noqa: E402
from emoji_data import BACKGROUND, EMOJI_TEST_CANDIDATES, FONT_CANDIDATES, example_meta, find_file, load_dataset  # noqa: E402
from emoji_vae import EmojiVae, VaeShape, vae_loss  # noqa: E402

PARITY_TOL = 1e-3
OPSET = 17


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    limit: int | None  # number of emoji (None = all)
    shape: VaeShape
    epochs: int
    batch: int
    lr: float
    beta: float  # KL weight against the per-image sum of squared errors
    ssim_weight: float  # weight of (1 - SSIM) against the same sum (0: squared error alone)
    augment: bool  # mirror and shift training images (augment()); the held-out figures never are
    posterior_samples: int  # extra z ~ q(z|x) per training image for the SAEs
    augmented_latents: int  # with augment: copies of the training set, mirrored and shifted, whose latents the latent SAE also reads
    sae_latent: TopKTrain
    sae_spatial: TopKTrain
    figures: bool
    # a second, wider SAE on the latent (its features split the first one's; its own id and folder)
    sae_latent_wide: TopKTrain | None = None


TINY = VaeShape(latent_dim=8, spatial_channels=8, enc=(4, 8, 8, 8), head=8, tail=(8, 4, 4))
PRESETS = {
    "full": Preset("full", None, VaeShape(latent_dim=128, tail=(128, 64, 32)), epochs=100, batch=64, lr=2e-3, beta=0.01,
                   ssim_weight=300.0, augment=True, posterior_samples=15, augmented_latents=8,
                   # data-initialised rows, cosine schedule and the firing-rate balance. Held-out FVE on the
                   # 100-epoch VAE's latent (128-d, KL 0.01): 512 features at k 32 0.875, 768 at k 40 0.892,
                   # 1024 at k 40 0.888, k 48 0.902, k 56 0.912 (values named, with the spatial SAE: 31,
                   # 33 and 33 of 54); on the 40-epoch VAE 512 at k 32 was 0.904 (29 named)
                   sae_latent=TopKTrain(d_sae=1024, k=56, steps=4000, batch=512, lr=2e-3, init="data",
                                        b_dec_init="mean", schedule="cosine", balance=0.01),
                   sae_spatial=TopKTrain(d_sae=2048, k=16, steps=2500, batch=1024, lr=2e-3, dead_after=200_000),
                   figures=True,
                   # twice as wide, trained the same way: at k 56 it explained 0.8999 of the held-out
                   # latent (short of 0.9), at k 60 0.907, at k 64 0.911; k 60 ships. With the two above,
                   # the index's labels name 39 of its 54 metadata values (33 without it)
                   sae_latent_wide=TopKTrain(d_sae=2048, k=60, steps=4000, batch=512, lr=2e-3, init="data",
                                             b_dec_init="mean", schedule="cosine", balance=0.01)),
    "smoke": Preset("smoke", 40, TINY, epochs=2, batch=16, lr=3e-3, beta=0.05, ssim_weight=300.0, augment=True,
                    posterior_samples=2, augmented_latents=1,
                    sae_latent=TopKTrain(d_sae=32, k=4, steps=40, batch=64, lr=2e-3, dead_after=1000),
                    sae_spatial=TopKTrain(d_sae=32, k=4, steps=40, batch=128, lr=2e-3, dead_after=5000),
                    figures=True,
                    sae_latent_wide=TopKTrain(d_sae=64, k=4, steps=40, batch=64, lr=2e-3, dead_after=1000)),
    # for a CUDA GPU (models/recipes/gpu): 128 px, wider layers, many more epochs
    "gpu128": Preset("gpu128", None, VaeShape(latent_dim=128, size=128, enc=(48, 96, 192, 192), head=192, tail=(128, 96, 64),
                                               outer=32),
                     epochs=150, batch=64, lr=2e-3, beta=0.01, ssim_weight=300.0, augment=True, posterior_samples=15,
                     augmented_latents=8,
                     sae_latent=TopKTrain(d_sae=512, k=16, steps=3000, batch=512, lr=2e-3),
                     sae_spatial=TopKTrain(d_sae=2048, k=16, steps=2500, batch=1024, lr=2e-3, dead_after=200_000),
                     figures=True),
    "fixture": Preset("fixture", 24, TINY, epochs=4, batch=8, lr=3e-3, beta=0.05, ssim_weight=0.0, augment=False,
                      posterior_samples=2, augmented_latents=0,
                      sae_latent=TopKTrain(d_sae=32, k=4, steps=60, batch=64, lr=2e-3, dead_after=1000),
                      sae_spatial=TopKTrain(d_sae=32, k=4, steps=60, batch=128, lr=2e-3, dead_after=5000),
                      figures=False),
}

LATENT_HOOK = "latent"
SPATIAL_HOOK = "decoder.hook_spatial"


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def seed_all(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


# ---------------------------------------------------------------------------------------- vae
def train_vae(p: Preset, x_train: torch.Tensor, x_val: torch.Tensor, seed: int, out: str,
              ckpt: Checkpoint | None = None, device: str = "cpu") -> tuple[EmojiVae, list]:
    """Trains and writes the VAE to `out`. With a stage checkpoint, the state after each epoch
    is saved (model, optimiser, both RNGs, history) and a killed run resumes after its last
    finished epoch with the same result as an uninterrupted one."""
    seed_all(seed)
    model = EmojiVae(p.shape).to(device)
    x_train, x_val = x_train.to(device), x_val.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    n = x_train.shape[0]
    steps_per_epoch = math.ceil(n / p.batch)
    total = p.epochs * steps_per_epoch
    warm = max(1, min(200, total // 20))
    g = torch.Generator().manual_seed(seed)
    history, step, first_epoch = [], 0, 0
    state = ckpt.load() if ckpt else None
    if state:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        g.set_state(state["gen"])
        torch.set_rng_state(state["torch_rng"])
        history, step, first_epoch = state["history"], state["step"], state["epochs_done"]
        log(f"vae: resumed after epoch {first_epoch}")
    for epoch in range(first_epoch, p.epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        # KL weight ramps up over the first quarter so the decoder learns to draw first.
        beta = p.beta * min(1.0, (epoch + 1) / max(1, p.epochs // 4))
        t0, se_sum, kl_sum = time.time(), 0.0, 0.0
        for b in range(steps_per_epoch):
            lr = p.lr * min(1.0, (step + 1) / warm) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / total)))
            for group in opt.param_groups:
                group["lr"] = lr
            batch = x_train[perm[b * p.batch:(b + 1) * p.batch].to(device)]
            if p.augment:
                batch = augment(batch, g)
            recon, mu, logvar = model(batch)
            loss, se, kl = vae_loss(recon, batch, mu, logvar, beta, p.ssim_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            se_sum += se.item() * batch.shape[0]
            kl_sum += kl.item() * batch.shape[0]
            step += 1
        val = reconstruct(model, x_val)
        val_mse = float(((val - x_val) ** 2).mean())
        rec = {"epoch": epoch + 1, "beta": beta, "train_se": se_sum / n, "train_kl": kl_sum / n,
               "train_mse": se_sum / n / x_train[0].numel(), "val_mse": val_mse,
               "val_psnr_of_mean_mse": 10 * math.log10(1.0 / max(val_mse, 1e-12)), "seconds": time.time() - t0}
        history.append(rec)
        log(f"vae epoch {epoch + 1}/{p.epochs} se {rec['train_se']:.1f} kl {rec['train_kl']:.1f} "
            f"val_mse {val_mse:.5f} ({rec['seconds']:.0f}s)")
        if ckpt:
            ckpt.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": g.get_state(),
                       "torch_rng": torch.get_rng_state(), "history": history, "step": step,
                       "epochs_done": epoch + 1})
    model.cpu()
    torch.save({"state": model.state_dict(), "shape": dataclasses.asdict(p.shape), "history": history,
                "epochs_done": p.epochs, "preset": p.name, "seed": seed}, out)
    return model, history


def augment(batch: torch.Tensor, g: torch.Generator, shift: int = 3) -> torch.Tensor:
    """Each image mirrored left-right with probability 1/2 and moved by up to `shift` pixels each
    way, the uncovered border filled with the grey ground. Without it the VAE learns the 3,294
    training emoji by heart (at 44 of 80 epochs: train MSE 0.0017, held-out 0.0090 and rising)."""
    n, c, h, w = batch.shape
    flip = torch.rand(n, generator=g) < 0.5
    out = torch.where(flip[:, None, None, None].to(batch.device), batch.flip(3), batch)
    ground = torch.tensor(BACKGROUND, dtype=batch.dtype, device=batch.device)[None, :, None, None]
    padded = ground.expand(n, c, h + 2 * shift, w + 2 * shift).clone()
    padded[:, :, shift:shift + h, shift:shift + w] = out
    dy, dx = (torch.randint(0, 2 * shift + 1, (2, n), generator=g)).tolist()
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def load_vae(ckpt: str) -> tuple[EmojiVae, dict]:
    state = torch.load(ckpt)
    model = EmojiVae(VaeShape(**{k: tuple(v) if isinstance(v, list) else v for k, v in state["shape"].items()}))
    model.load_state_dict(state["state"])
    return model, state


@torch.no_grad()
def spatial_codes_max(model: EmojiVae, sae, mu: torch.Tensor) -> np.ndarray:
    """Per image, each spatial-SAE feature's largest activation over the 64 positions: [N, d_sae]."""
    out = []
    for c in mu.split(64):
        s = model.decoder_head(c)
        vec = s.permute(0, 2, 3, 1).reshape(-1, s.shape[1])
        out.append(sae.encode(vec).reshape(c.shape[0], 64, -1).amax(1))
    return torch.cat(out).numpy()


@torch.no_grad()
def reconstruct(model: EmojiVae, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    return torch.cat([model(c, sample=False)[0] for c in x.split(256)])


@torch.no_grad()
def encode_all(model: EmojiVae, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mus, logvars = zip(*[model.encoder(c) for c in x.split(256)])
    return torch.cat(mus), torch.cat(logvars)


def recon_metrics(x: torch.Tensor, r: torch.Tensor) -> dict:
    mse = ((x - r) ** 2).flatten(1).mean(1)
    psnr = 10 * torch.log10(1.0 / mse.clamp_min(1e-10))
    return {"psnr_db": float(psnr.mean()), "psnr_db_median": float(psnr.median()),
            "ssim": float(ssim(x, r).mean()), "mse": float(mse.mean()), "images": int(x.shape[0])}


# ------------------------------------------------------------------------------------- export
def _b64(t: torch.Tensor) -> dict:
    a = t.detach().numpy().astype("<f4")
    return {"dims": list(a.shape), "data": base64.b64encode(a.tobytes()).decode()}


def export_onnx(model: EmojiVae, pack: str, ref_images: torch.Tensor, ref_path: str) -> dict:
    """Exports the three graphs (model already frozen to fp16 weights) and writes torch references."""
    model.eval()
    s = model.shape
    specs = [
        ("encoder.onnx", model.encoder, torch.zeros(2, 3, s.size, s.size), ["image"], ["mu", "logvar"]),
        ("decoder_head.onnx", model.decoder_head, torch.zeros(2, s.latent_dim), ["latent"], ["spatial"]),
        ("decoder_tail.onnx", model.decoder_tail, torch.zeros(2, s.spatial_channels, 8, 8), ["spatial"], ["image"]),
    ]
    for fname, module, dummy, ins, outs in specs:
        torch.onnx.export(module, (dummy,), os.path.join(pack, fname), input_names=ins, output_names=outs,
                          dynamic_axes={n: {0: "batch"} for n in ins + outs}, opset_version=OPSET,
                          do_constant_folding=False)
    with torch.no_grad():
        mu, logvar = model.encoder(ref_images)
        z = torch.cat([mu, mu[:1] + torch.randn(1, s.latent_dim, generator=torch.Generator().manual_seed(7))])
        spatial = model.decoder_head(z)
        image = model.decoder_tail(spatial)
    ref = {"tolerance": PARITY_TOL, "graphs": [
        {"file": "encoder.onnx", "inputs": {"image": _b64(ref_images)},
         "outputs": {"mu": _b64(mu), "logvar": _b64(logvar)}},
        {"file": "decoder_head.onnx", "inputs": {"latent": _b64(z)}, "outputs": {"spatial": _b64(spatial)}},
        {"file": "decoder_tail.onnx", "inputs": {"spatial": _b64(spatial)}, "outputs": {"image": _b64(image)}},
    ]}
    with open(ref_path, "w") as fh:
        json.dump(ref, fh)
    return {f: os.path.getsize(os.path.join(pack, f)) for f, *_ in specs}


# ---------------------------------------------------------------------------------- analysis
def metadata_aucs(f_train: np.ndarray, f_val: np.ndarray, meta_train: list[dict], meta_val: list[dict],
                  min_train: int = 3, min_val: int = 2) -> dict:
    """For each metadata value: the best feature chosen on train, and its AUC on held-out emoji."""
    r_train, r_val = average_ranks(f_train), average_ranks(f_val)
    out = {}
    for field in ("group", "subgroup"):
        values = sorted({m[field] for m in meta_train} | {m[field] for m in meta_val})
        rows = []
        for v in values:
            pt = np.array([m[field] == v for m in meta_train])
            pv = np.array([m[field] == v for m in meta_val])
            if pt.sum() < min_train or pv.sum() < min_val or pt.all() or pv.all():
                continue
            auc_t = auc_from_ranks(r_train, pt)
            best = int(np.argmax(auc_t))
            auc_v = float(auc_from_ranks(r_val, pv)[best])
            rows.append({"value": v, "feature": best, "train_auc": float(auc_t[best]), "val_auc": auc_v,
                         "train_n": int(pt.sum()), "val_n": int(pv.sum())})
        out[field] = {
            "values_evaluated": len(rows),
            "values_with_val_auc_ge_0.85": sum(r["val_auc"] >= 0.85 for r in rows),
            "values_with_train_auc_ge_0.85": sum(r["train_auc"] >= 0.85 for r in rows),
            "mean_val_auc": float(np.mean([r["val_auc"] for r in rows])) if rows else None,
            "rows": rows,
        }
    return out


# ----------------------------------------------------------------------------------- figures
def to_uint8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)


def write_sheet(images: np.ndarray, path: str, columns: int) -> None:
    from PIL import Image

    n, t = images.shape[0], images.shape[1]
    rows = math.ceil(n / columns)
    ground = tuple(int(round(255 * v)) for v in BACKGROUND)
    sheet = Image.new("RGB", (columns * t, rows * t), ground)
    for i in range(n):
        sheet.paste(Image.fromarray(images[i]), ((i % columns) * t, (i // columns) * t))
    sheet.save(path, optimize=True)


def steering_figure(model: EmojiVae, sae, mu: torch.Tensor, feature: int, value: float, path: str,
                    originals: torch.Tensor, title: str) -> None:
    """Rows: original, decode(z) before, decode after pinning feature to value (SAE error kept)."""
    from PIL import Image, ImageDraw

    with torch.no_grad():
        f = sae.encode(mu)
        delta = (value - f[:, feature])[:, None] * sae.W_dec[feature][None, :]
        before = model.decode(mu)
        after = model.decode(mu + delta)
    rows = [to_uint8(originals), to_uint8(before), to_uint8(after)]
    n, scale, pad_top = mu.shape[0], 2, 16
    img = Image.new("RGB", (n * 64 * scale, 3 * 64 * scale + pad_top), (255, 255, 255))
    ImageDraw.Draw(img).text((4, 2), title, fill=(0, 0, 0))
    for r, row in enumerate(rows):
        for i in range(n):
            tile = Image.fromarray(row[i]).resize((64 * scale, 64 * scale), Image.NEAREST)
            img.paste(tile, (i * 64 * scale, pad_top + r * 64 * scale))
    img.save(path, optimize=True)


def paint_figure(model: EmojiVae, sae, mu: torch.Tensor, feature: int, value: float, path: str,
                 originals: torch.Tensor, title: str) -> None:
    """Like steering_figure, but the spatial-SAE feature is pinned only on the top-left 4x4 of the 8x8 map."""
    from PIL import Image, ImageDraw

    with torch.no_grad():
        spatial = model.decoder_head(mu)  # [n, C, 8, 8]
        n, c = spatial.shape[:2]
        vec = spatial.permute(0, 2, 3, 1).reshape(-1, c)
        f = sae.encode(vec)
        mask = torch.zeros(8, 8, dtype=torch.bool)
        mask[:4, :4] = True
        mask = mask.flatten().repeat(n)
        delta = (value - f[:, feature])[:, None] * sae.W_dec[feature][None, :] * mask[:, None]
        painted = (vec + delta).reshape(n, 8, 8, c).permute(0, 3, 1, 2)
        before, after = model.decoder_tail(spatial), model.decoder_tail(painted)
    rows = [to_uint8(originals), to_uint8(before), to_uint8(after)]
    scale, pad_top = 2, 16
    img = Image.new("RGB", (n * 64 * scale, 3 * 64 * scale + pad_top), (255, 255, 255))
    ImageDraw.Draw(img).text((4, 2), title, fill=(0, 0, 0))
    for r, row in enumerate(rows):
        for i in range(n):
            tile = Image.fromarray(row[i]).resize((64 * scale, 64 * scale), Image.NEAREST)
            img.paste(tile, (i * 64 * scale, pad_top + r * 64 * scale))
    img.save(path, optimize=True)


def best_colour_feature(f: np.ndarray, colour: np.ndarray) -> tuple[int, float]:
    """The feature whose activation correlates most (Pearson) with a per-image colour score."""
    cz = (colour - colour.mean()) / (colour.std() + 1e-8)
    fz = (f - f.mean(0)) / (f.std(0) + 1e-8)
    corr = (fz * cz[:, None]).mean(0)
    j = int(np.argmax(corr))
    return j, float(corr[j])


def pin_value(acts: np.ndarray) -> float:
    """A strong but in-distribution setting: 1.5x the 99th percentile of the feature's nonzero activations."""
    active = acts[acts > 0]
    return float(np.quantile(active, 0.99)) * 1.5 if len(active) else 1.0


def make_figures(model, saes, sae_ids, images, tr, va, f_lat, f_sp, aucs, fig_dir, seed) -> list[dict]:
    """Before/after pictures: latent-SAE features turned up (colours and shapes), one spatial feature painted."""
    os.makedirs(fig_dir, exist_ok=True)
    sae = saes[LATENT_HOOK]
    colours = colour_scores(images[tr].numpy())
    picks = []
    for colour in ("red", "blue", "yellow"):
        j, r = best_colour_feature(f_lat[tr], colours[colour])
        picks.append((f"colour-{colour}", j, f"latent feature {j}: most correlated with {colour} ink (r = {r:.2f})"))
    sub_rows = sorted(aucs[LATENT_HOOK]["subgroup"]["rows"], key=lambda r: -r["val_auc"])
    wanted = [r for r in sub_rows if r["value"] in ("country-flag", "face-smiling", "heart", "animal-mammal")]
    for r in (wanted or sub_rows)[:2]:
        picks.append((f"shape-{r['value']}", r["feature"], f"latent feature {r['feature']}: best for "
                      f"subgroup '{r['value']}' (held-out AUC {r['val_auc']:.2f})"))
    show = np.sort(np.random.default_rng(seed).choice(va, size=min(8, len(va)), replace=False))
    with torch.no_grad():
        mu_show = model.encoder(images[show])[0]
    figures = []
    for slug, j, title in picks:
        value = pin_value(f_lat[tr][:, j])
        path = os.path.join(fig_dir, f"turn-{slug}.png")
        steering_figure(model, sae, mu_show, j, value, path, images[show],
                        f"latent #{j} ({slug}) pinned to {value:.2f}   rows: input / before / after")
        figures.append({"file": f"figures/turn-{slug}.png", "hook": LATENT_HOOK, "feature": j,
                        "sae": sae_ids[LATENT_HOOK], "value": value, "title": title})
    j, r = best_colour_feature(f_sp[tr], colours["red"])
    value = pin_value(f_sp[tr][:, j])
    title = (f"spatial feature {j} (most correlated with red ink, r = {r:.2f}) painted on the top-left quarter; "
             f"rows: input, decode(z), painted at {value:.2f}")
    paint_figure(model, saes[SPATIAL_HOOK], mu_show, j, value, os.path.join(fig_dir, "paint-spatial-red.png"),
                 images[show], f"spatial #{j} (red) painted top-left at {value:.2f}   rows: input / before / after")
    figures.append({"file": "figures/paint-spatial-red.png", "hook": SPATIAL_HOOK, "feature": j,
                    "sae": sae_ids[SPATIAL_HOOK], "value": value, "title": title})
    return figures


def colour_scores(x: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image colour of the drawn pixels (those away from the grey ground); x: [N,3,H,W] in [0,1]."""
    ground = np.array(BACKGROUND, dtype=np.float32)[None, :, None, None]
    ink = (np.abs(x - ground).sum(1) > 0.12).astype(np.float32)  # [N,H,W]
    w = ink / np.maximum(ink.sum((1, 2), keepdims=True), 1)
    r, g, b = (np.sum(x[:, c] * w, axis=(1, 2)) for c in range(3))
    return {"red": r - (g + b) / 2, "yellow": (r + g) / 2 - b, "blue": b - (r + g) / 2, "green": g - (r + b) / 2}


# -------------------------------------------------------------------------------------- main
def threads_words(n: int) -> str:
    return "one CPU thread" if n == 1 else f"{n} CPU threads"


STAGES = ["data", "vae", "pack", "index"]


def figures_only(preset: Preset, pack: str, work: str, args) -> None:
    data = load_dataset(os.path.join(work, f"emoji{preset.shape.size}.npz"), args.val_fraction, args.seed, preset.limit,
                        preset.shape.size)
    images = torch.from_numpy(data["images"]).permute(0, 3, 1, 2).float() / 255.0
    split = np.array(data["split"])
    tr, va = np.flatnonzero(split == "train"), np.flatnonzero(split == "val")
    model, _ = load_vae(os.path.join(work, "vae.pt"))
    model.eval()
    model.freeze_half()
    with open(os.path.join(pack, "metrics.json"), encoding="utf-8") as fh:
        metrics = json.load(fh)
    saes = {h: saelens.load(os.path.join(pack, metrics["saes"][h]["dir"])) for h in (LATENT_HOOK, SPATIAL_HOOK)}
    mu_all, _ = encode_all(model, images)
    with torch.no_grad():
        f_lat = saes[LATENT_HOOK].encode(mu_all).numpy()
    f_sp = spatial_codes_max(model, saes[SPATIAL_HOOK], mu_all)
    fig_dir = os.path.join(pack, "figures")
    if os.path.isdir(fig_dir):
        shutil.rmtree(fig_dir)
    metrics["figures"] = make_figures(model, saes, {h: metrics["saes"][h]["id"] for h in saes}, images, tr, va,
                                      f_lat, f_sp, metrics["metadata_auc"], fig_dir, args.seed)
    with open(os.path.join(pack, "metrics.json"), "w", encoding="utf-8") as fh:
        json.dump(metrics, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    log(f"figures: {len(metrics['figures'])} written to {fig_dir}")


PACKAGES = ["fonts-noto-color-emoji", "unicode-data", "python3-pil", "libraqm0"]


def sources() -> dict[str, str]:
    """The data the pack is made from (its hashes and Debian packages go into metrics.json)."""
    return {"emoji_font": find_file(FONT_CANDIDATES, "NotoColorEmoji.ttf"),
            "emoji_test": find_file(EMOJI_TEST_CANDIDATES, "emoji-test.txt")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--smoke", action="store_true", help="tiny slice, all stages, temp dir (CI)")
    mode.add_argument("--fixture", action="store_true", help="write tests/fixtures/packs/emoji-tiny")
    ap.add_argument("--out", help="pack folder (default by mode)")
    ap.add_argument("--work", help="work folder for caches, checkpoints, parity references")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--epochs", type=int, help="override the preset's VAE epochs")
    ap.add_argument("--stages", help=f"run only these stages (comma-separated: {', '.join(STAGES)}); "
                                     "the others are left as they are in the work folder")
    ap.add_argument("--force", default="", help="re-run these stages even when up to date")
    ap.add_argument("--reuse-vae", action="store_true",
                    help="use the work folder's vae.pt as it is (the vae stage does not run)")
    ap.add_argument("--figures-only", action="store_true",
                    help="redraw figures from the built pack and the work folder's VAE checkpoint")
    ap.add_argument("--sae-steps", type=int, help="override both SAEs' training steps (quick checks)")
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--preset", choices=["full", "gpu128"], help="without --smoke/--fixture: full (default) or gpu128")
    ap.add_argument("--size", type=int, choices=[64, 128], help="override the preset's image size")
    ap.add_argument("--device", default="cpu", help="where the VAE trains (cuda on a GPU)")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1: seeded runs repeat "
                                                             "bit for bit on one thread)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    preset = PRESETS["smoke" if args.smoke else "fixture" if args.fixture else args.preset or "full"]
    if args.size:
        preset = dataclasses.replace(preset, shape=dataclasses.replace(preset.shape, size=args.size))
    if args.epochs:
        preset = dataclasses.replace(preset, epochs=args.epochs)
    if args.sae_steps:
        preset = dataclasses.replace(preset, sae_latent=dataclasses.replace(preset.sae_latent, steps=args.sae_steps),
                                     sae_spatial=dataclasses.replace(preset.sae_spatial, steps=args.sae_steps))
    tmp = tempfile.mkdtemp(prefix="orrery-emoji-") if args.smoke else None
    pack = args.out or (os.path.join(tmp, "pack") if args.smoke else
                        os.path.join(REPO, "tests/fixtures/packs/emoji-tiny") if args.fixture else
                        os.path.join(REPO, "models/emoji"))
    work = args.work or (os.path.join(tmp, "work") if tmp else os.path.join(HERE, "work", preset.name))
    os.makedirs(work, exist_ok=True)
    if args.figures_only:
        figures_only(preset, pack, work, args)
        return
    npz, vae_pt = os.path.join(work, f"emoji{preset.shape.size}.npz"), os.path.join(work, "vae.pt")
    # The full pack's torch references are kept beside the recipe, so the shipped ONNX files can be
    # checked on a clean checkout: node models/recipes/emoji/parity.mjs models/emoji <this file>.
    ref_path = os.path.join(HERE, "parity_reference.json") if preset.name == "full" else \
        os.path.join(work, "parity_reference.json")
    timings: dict[str, float] = {}

    def load_data():
        d = load_dataset(npz, args.val_fraction, args.seed, preset.limit, preset.shape.size)
        images = torch.from_numpy(d["images"]).permute(0, 3, 1, 2).float() / 255.0
        split = np.array(d["split"])
        return d, images, split, np.flatnonzero(split == "train"), np.flatnonzero(split == "val")

    def stage_data(ctx):
        t = time.time()
        d, images, _, tr, va = load_data()
        timings["data_s"] = time.time() - t
        log(f"data: {len(images)} emoji ({len(tr)} train, {len(va)} val), {len(d['dropped'])} not drawable")

    def stage_vae(ctx):
        _, images, _, tr, va = load_data()
        t = time.time()
        train_vae(preset, images[tr], images[va], args.seed, vae_pt, ctx.checkpoint, args.device)
        timings["vae_train_s"] = time.time() - t

    def stage_pack(ctx):
        t_all = time.time()
        if os.path.isdir(pack):
            shutil.rmtree(pack)
        os.makedirs(pack)
        data, images, split, tr, va = load_data()
        x_train, x_val = images[tr], images[va]
        meta = [{"group": e.group, "subgroup": e.subgroup} for e in data["emojis"]]
        model, state = load_vae(vae_pt)
        history = state["history"]
        timings.setdefault("vae_train_s", sum(h["seconds"] for h in history))
        model.eval()
        model.freeze_half()  # from here on every number comes from the fp16 weights the ONNX files hold

        # evaluate reconstruction --------------------------------------------------------------------
        recon_val, recon_train = reconstruct(model, x_val), reconstruct(model, x_train)
        recon = {"val": recon_metrics(x_val, recon_val), "train": recon_metrics(x_train, recon_train)}
        log(f"recon val: PSNR {recon['val']['psnr_db']:.2f} dB SSIM {recon['val']['ssim']:.4f}")

        # export + parity -----------------------------------------------------------------------------
        t = time.time()
        sizes = export_onnx(model, pack, x_val[:3], ref_path)
        parity_lines = parity.run(os.path.join(HERE, "parity.mjs"), pack, ref_path, log)
        timings["export_s"] = time.time() - t

        # SAEs ------------------------------------------------------------------------------------------
        t = time.time()
        mu_all, logvar_all = encode_all(model, images)
        g = torch.Generator().manual_seed(args.seed + 1)
        mu_tr, lv_tr = mu_all[tr], logvar_all[tr]
        z_extra = [mu_tr + torch.randn(mu_tr.shape, generator=g) * torch.exp(0.5 * lv_tr)
                   for _ in range(preset.posterior_samples)]
        # the latents of mirrored and shifted training emoji (each mu and one draw from q(z|x)): on
        # the training latents alone the SAE fitted them (FVE 0.97) and explained 0.87 of held-out
        # variance; with 8 such copies 0.91
        z_aug, ga = [], torch.Generator().manual_seed(args.seed + 3)
        for _ in range(preset.augmented_latents if preset.augment else 0):
            mu_a, lv_a = encode_all(model, torch.cat([augment(c, ga) for c in x_train.split(512)]))
            z_aug += [mu_a, mu_a + torch.randn(mu_a.shape, generator=g) * torch.exp(0.5 * lv_a)]
        z_train = torch.cat([mu_tr] + z_extra + z_aug)
        with torch.no_grad():
            def spatial_vectors(z):  # [N, C, 8, 8] -> [N*64, C]
                return torch.cat([model.decoder_head(c) for c in z.split(512)]).permute(0, 2, 3, 1).reshape(-1, preset.shape.spatial_channels)
            s_train = spatial_vectors(torch.cat([mu_tr] + z_extra[:3]))
            s_val = spatial_vectors(mu_all[va])
        saes, sae_metrics = {}, {}
        # (metrics key, hook, training, fit, held-out, every emoji, folder, seed offset); the key of
        # the first SAE on a hook is the hook's name (what the analysis and figures below read)
        specs = [(LATENT_HOOK, LATENT_HOOK, preset.sae_latent, z_train, mu_all[va], mu_all, f"sae/{LATENT_HOOK}", 1),
                 (SPATIAL_HOOK, SPATIAL_HOOK, preset.sae_spatial, s_train, s_val, None, f"sae/{SPATIAL_HOOK}", 2)]
        if preset.sae_latent_wide:
            wide = f"latent-{preset.sae_latent_wide.d_sae}"
            specs.append((wide, LATENT_HOOK, preset.sae_latent_wide, z_train, mu_all[va], mu_all, f"sae/{wide}", 3))
        for key, hook, cfg, x_fit, x_eval, x_every, d, seed_offset in specs:
            log(f"sae {key}: {x_fit.shape[0]} samples x {x_fit.shape[1]}, d_sae {cfg.d_sae}, k {cfg.k}")
            t_s = time.time()
            sae, train_info = train_topk(x_fit, cfg, args.seed + seed_offset, log=log)
            on_train = evaluate(sae, x_fit[:262_144])  # density for sparsity.safetensors; a slice is plenty
            saelens.write(os.path.join(pack, d), sae, saelens.topk_cfg(
                d_in=sae.d_in, d_sae=cfg.d_sae, k=cfg.k, hook=hook, model_name="orrery-emoji-vae",
                dataset="fonts-noto-color-emoji + unicode-data emoji-test.txt",
                context_size=1 if hook == LATENT_HOOK else 64, trained_by="models/recipes/emoji/recipe.py"),
                on_train["density"])
            sae = saelens.load(os.path.join(pack, d))  # evaluate what was written
            on_val = evaluate(sae, x_eval)
            # Every emoji (train + val, z = mu): the set the app indexes; dead = never fires on it.
            on_all = evaluate(sae, x_every if x_every is not None else spatial_vectors(mu_all))
            saes[key] = sae
            sae_metrics[key] = {
                "id": f"{'latent' if hook == LATENT_HOOK else 'spatial'}-{cfg.d_sae}", "hook": hook,
                "dir": d, "d_in": sae.d_in, "d_sae": cfg.d_sae, "k": cfg.k, "steps": cfg.steps,
                "train_samples": int(x_fit.shape[0]), "seconds": time.time() - t_s,
                "val": {k: v for k, v in on_val.items() if k != "density"},
                "all_emoji": {k: v for k, v in on_all.items() if k != "density"},
                "train_fve": on_train["fve"], **train_info,
            }
            log(f"sae {key}: val FVE {on_val['fve']:.3f} dead(val) {on_val['dead_fraction']:.3f} "
                f"dead(all emoji) {on_all['dead_fraction']:.3f} FVE(all emoji) {on_all['fve']:.3f} L0 {on_val['mean_l0']:.1f}")
        timings["saes_s"] = time.time() - t

        # features vs metadata ------------------------------------------------------------------------
        t = time.time()
        with torch.no_grad():
            f_lat = saes[LATENT_HOOK].encode(mu_all).numpy()
        f_sp = spatial_codes_max(model, saes[SPATIAL_HOOK], mu_all)
        meta_tr, meta_va = [meta[i] for i in tr], [meta[i] for i in va]
        aucs = {LATENT_HOOK: metadata_aucs(f_lat[tr], f_lat[va], meta_tr, meta_va),
                SPATIAL_HOOK + " (max over positions)": metadata_aucs(f_sp[tr], f_sp[va], meta_tr, meta_va)}
        for hook, res in aucs.items():
            for field, r in res.items():
                log(f"auc {hook} {field}: {r['values_with_val_auc_ge_0.85']}/{r['values_evaluated']} values "
                    f"with held-out AUC >= 0.85 (mean {r['mean_val_auc']})")
        timings["analysis_s"] = time.time() - t

        # figures ------------------------------------------------------------------------------------------
        figures = []
        if preset.figures:
            figures = make_figures(model, saes, {h: m["id"] for h, m in sae_metrics.items()}, images, tr, va,
                                   f_lat, f_sp, aucs, os.path.join(pack, "figures"), args.seed)

        # pack -----------------------------------------------------------------------------------------------
        sheet_cols = 64 if len(images) > 256 else 8
        write_sheet(data["images"], os.path.join(pack, "examples.png"), sheet_cols)
        with open(os.path.join(pack, "examples.jsonl"), "w", encoding="utf-8") as fh:
            for e, s in zip(data["emojis"], data["split"]):
                fh.write(json.dumps({"name": e.name, "meta": example_meta(e), "split": s},
                                    ensure_ascii=False) + "\n")
        s = preset.shape
        tiny = preset.name in ("smoke", "fixture")
        manifest = {
            "format": 1,
            "id": "orrery-emoji-tiny" if tiny else "orrery-emoji",
            "name": "Emoji (tiny test fixture)" if tiny else "Noto Color Emoji (image VAE)",
            "kind": "image-vae",
            "version": "1.0.0",
            "license": "Weights: MIT (Orrery). Data: Noto Color Emoji images, SIL Open Font License 1.1 "
                       "(Debian fonts-noto-color-emoji); emoji names, groups and subgroups from Unicode's "
                       "emoji-test.txt, Unicode License Agreement - Data Files and Software (Debian unicode-data).",
            "source": (f"Convolutional VAE (latent {s.latent_dim}, spatial hook {s.spatial_channels}x8x8, KL weight "
                       f"{preset.beta}) trained by models/recipes/emoji/recipe.py (preset '{preset.name}', seed "
                       f"{args.seed}, {preset.epochs} epochs, "
                       + (f"Debian python3-torch on {threads_words(args.threads)}" if args.device == "cpu" else f"torch on {args.device}")
                       + f") on {len(tr)} of {len(images)} Noto Color Emoji glyphs rendered at {s.size}x{s.size} on a grey ground "
                       f"({len(va)} held out, split by emoji family so skin-tone variants stay together). "
                       "TopK SAEs (AuxK) on the latent"
                       + (" (two widths)" if preset.sae_latent_wide else "")
                       + " and on each position of the decoder's 8x8 spatial map."
                       + (" Tiny test fixture: few emoji, tiny channels, a few training steps." if tiny else "")),
            "model": {
                "onnx": {"encoder": "encoder.onnx", "decoder_head": "decoder_head.onnx",
                         "decoder_tail": "decoder_tail.onnx"},
                "image": {"size": s.size, "channels": 3, "range": [0, 1], "background": list(BACKGROUND)},
                "latent_dim": s.latent_dim,
                "spatial": {"hook": SPATIAL_HOOK, "channels": s.spatial_channels, "height": 8, "width": 8},
            },
            "saes": [{"id": x["id"], "hook": x["hook"], "dir": x["dir"]} for x in sae_metrics.values()],
            # The index tests these keys for labels, over every example (the held-out split alone
            # leaves most subgroups with two or three emoji).
            "examples": {"sheet": "examples.png", "tile": s.size, "meta": "examples.jsonl",
                         "label_keys": ["group", "subgroup", "skin_tone"], "index_split": "all"},
        }
        with open(os.path.join(pack, "manifest.json"), "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        latent_stats = {"mu_mean_abs": float(mu_all.abs().mean()), "mu_std": float(mu_all.std()),
                        "sigma_mean": float(torch.exp(0.5 * logvar_all).mean()),
                        "spatial_min": float(s_val.min()), "spatial_max": float(s_val.max())}
        metrics = {
            "preset": preset.name, "seed": args.seed, "torch": torch.__version__, "threads": args.threads,
            "data": {"emoji": len(images), "train": len(tr), "val": len(va), "not_drawable": data["dropped"],
                     "font_sha256": data["font_sha256"], "emoji_test": data["emoji_test"],
                     "background": list(BACKGROUND)},
            "vae": {"shape": dataclasses.asdict(s), "epochs": len(history), "beta": preset.beta,
                    "ssim_weight": preset.ssim_weight,
                    "batch": preset.batch, "lr": preset.lr,
                    "params": sum(p.numel() for n, p in model.named_parameters()),
                    "weights": "fp16 in ONNX (metrics computed with the same fp16-rounded weights)",
                    "history": history, "latent": latent_stats},
            "reconstruction": recon,
            "onnx": {"opset": OPSET, "bytes": sizes, "parity_tolerance": PARITY_TOL, "parity": parity_lines},
            "saes": sae_metrics,
            "metadata_auc": aucs,
            "figures": figures,
            "timings_s": timings,
            "provenance": runner.provenance(sources(), PACKAGES),
        }
        # wall clock of this pack stage plus the data and VAE stages (as recorded when they ran)
        timings["total_s"] = time.time() - t_all + timings.get("data_s", 0) + timings["vae_train_s"]
        with open(os.path.join(pack, "metrics.json"), "w", encoding="utf-8") as fh:
            json.dump(metrics, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        log(f"pack written to {pack} ({sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(pack) for f in fs) / 1e6:.2f} MB)")

    def stage_index(ctx):
        pack_index.build(pack, log, thumbnails=False)  # the app cuts thumbnails from examples.png

    settings = {"preset": dataclasses.asdict(preset), "seed": args.seed, "val_fraction": args.val_fraction}
    pack_files = [os.path.join(pack, f) for f in ("manifest.json", "metrics.json")]
    stages = [
        Stage("data", stage_data, inputs=list(sources().values()), outputs=[npz],
              params={"limit": preset.limit, "seed": args.seed, "val_fraction": args.val_fraction}),
        Stage("vae", stage_vae, inputs=[npz], outputs=[vae_pt],
              params={k: v for k, v in settings["preset"].items()
                      if k not in ("sae_latent", "sae_spatial", "figures", "augmented_latents")}
              | {"seed": args.seed, "val_fraction": args.val_fraction}),
        Stage("pack", stage_pack, inputs=[npz, vae_pt, *[os.path.join(HERE, f) for f in ("recipe.py", "parity.mjs")]],
              outputs=pack_files + ([ref_path] if preset.name == "full" else []), params=settings),
        Stage("index", stage_index, inputs=[os.path.join(pack, "metrics.json")],
              outputs=[os.path.join(pack, pack_index.INDEX_FILE), os.path.join(pack, "manifest.json")]),
    ]
    if args.fixture:  # a test fixture ships no index: the tests build theirs from it
        stages = stages[:-1]
    runner = StageRunner(work, stages, log=log, root=REPO, out=pack)
    only = [s for s in (args.stages or "").split(",") if s] or None
    if args.reuse_vae:
        if not os.path.exists(vae_pt):
            raise SystemExit(f"--reuse-vae: {vae_pt} is missing")
        only = [s.name for s in stages if s.name != "vae" and (not only or s.name in only)]
    t0 = time.time()
    runner.run(only=only, force=[s for s in args.force.split(",") if s])
    log(f"stages run: {', '.join(runner.ran) or 'none'}; up to date: {', '.join(runner.skipped) or 'none'} "
        f"({time.time() - t0:.0f}s)")
    if tmp:
        shutil.rmtree(tmp)
        log("smoke: ok (temp dir removed)")


if __name__ == "__main__":
    main()
