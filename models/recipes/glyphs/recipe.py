#!/usr/bin/python3
"""Orrery typeface pack recipe (kind glyph-cvae).

Stages (models/recipes/common/stages.py; each skipped when up to date, `--force` re-runs):
data (Debian fonts-* faces -> 64x64 glyphs + fontTools metadata, cached) -> train (the
character-conditioned VAE; seeded, checkpointed in cvae.pt, EMA weights; a killed run resumes from
its last checkpoint) -> pack: held-out metrics (PSNR, glyph-classifier accuracy on decoded glyphs),
ONNX export (fp16 weights) + onnxruntime parity (parity.mjs), TopK SAE on the style,
feature/metadata AUCs, steering figures, metrics.json with provenance -> index
(features.sqlite.br by the app's index build).

  /usr/bin/python3 models/recipes/glyphs/recipe.py                 # full run -> models/glyphs
  /usr/bin/python3 models/recipes/glyphs/recipe.py --stage train   # only train (background)
  /usr/bin/python3 models/recipes/glyphs/recipe.py --stage finish  # pack + index from the checkpoint
  /usr/bin/python3 models/recipes/glyphs/recipe.py --smoke         # all stages, tiny, temp dir
  /usr/bin/python3 models/recipes/glyphs/recipe.py --fixture       # tests/fixtures/packs/glyphs-tiny

Fonts used for the shipped pack (Debian 12; --smoke and --fixture need only fonts-dejavu-core):
  apt-get install --no-install-recommends fonts-dejavu-core fonts-dejavu-extra fonts-liberation
  fonts-liberation2 fonts-freefont-ttf fonts-noto-core fonts-noto-mono fonts-crosextra-carlito
  fonts-crosextra-caladea fonts-urw-base35 fonts-cantarell fonts-ebgaramond fonts-linuxlibertine
  fonts-texgyre fonts-firacode fonts-inconsolata fonts-roboto-unhinted fonts-open-sans fonts-lato
  fonts-hack-ttf fonts-croscore fonts-go fonts-adf-accanthis fonts-adf-baskervald fonts-adf-berenis
  fonts-adf-gillius fonts-adf-ikarius fonts-adf-irianis fonts-adf-libris fonts-adf-mekanus
  fonts-adf-oldania fonts-adf-romande fonts-adf-switzera fonts-adf-tribun fonts-adf-universalis
  fonts-adf-verana fonts-adf-solothurn fonts-sil-gentium fonts-sil-charis fonts-sil-andika
  fonts-sil-doulos fonts-cabin fonts-comic-neue fonts-courier-prime fonts-dosis fonts-jetbrains-mono
  fonts-anonymous-pro fonts-mononoki fonts-b612 fonts-league-spartan fonts-quicksand fonts-sora
  fonts-manrope fonts-oldstandard fonts-vollkorn fonts-yanone-kaffeesatz fonts-stix fonts-play
  fonts-roboto-slab fonts-averia-gwf fonts-averia-sans-gwf fonts-averia-serif-gwf fonts-cardo
  fonts-comfortaa fonts-karla fonts-jura fonts-quattrocento fonts-arapey fonts-allerta
  fonts-clear-sans fonts-dancingscript fonts-kaushanscript fonts-lobster fonts-lobstertwo
  fonts-humor-sans fonts-isabella fonts-tuffy fonts-paratype fonts-opendyslexic fonts-fantasque-sans
  fonts-oxygen fonts-okolaks fonts-routed-gothic fonts-goudybookletter fonts-tiresias fonts-elstob
  fonts-fanwood fonts-junction fonts-yrsa-rasa fonts-inter fonts-bebas-neue fonts-gnutypewriter
  fonts-century-catalogue fonts-hermit fonts-agave fonts-monofur fonts-league-mono fonts-le-murmure
  fonts-staypuft fonts-f500 fonts-rufscript fonts-breip fonts-femkeklaver fonts-dkg-handwriting
  fonts-oflb-euterpe fonts-prociono fonts-radisnoir fonts-blankenburg fonts-gotico-antiqua
  fonts-lindenhill fonts-kristi fonts-leckerli-one fonts-cherrybomb fonts-lemonada fonts-karmilla
  fonts-campania fonts-aenigma fonts-beteckna fonts-engadget fonts-eurofurence fonts-fantasma
  fonts-gamaliel fonts-levien-museum fonts-levien-typoscript fonts-linex fonts-national-park
  fonts-ecolier-court fonts-summersby fonts-tomsontalks fonts-ubuntu-title fonts-dustin
  fonts-georgewilliams fonts-joscelyn fonts-klaudia-berenika fonts-millimetre fonts-mph-2b-damase
  fonts-sil-gentium-basic fonts-gfs-didot fonts-gfs-baskerville fonts-gfs-bodoni-classic
  fonts-gfs-neohellenic fonts-gfs-artemisia fonts-monoid fonts-ocr-a fonts-ocr-b fonts-3270
  fonts-tlwg-typewriter-ttf fonts-tlwg-mono-ttf fonts-tlwg-typist-ttf fonts-tlwg-purisa-ttf
  fonts-tlwg-laksaman-ttf fonts-tlwg-kinnari-ttf fonts-tlwg-waree-ttf fonts-tlwg-loma-ttf
  fonts-tlwg-sawasdee-ttf fonts-tlwg-umpush-ttf fonts-tlwg-norasi-ttf fonts-tlwg-garuda-ttf
  fonts-lmodern fonts-unfonts-core fonts-opendin fonts-cabinsketch fonts-creep2
"""
from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))  # models/recipes: the shared toolkit, common/

import fontdata  # noqa: E402
from fontdata import CHARSET, ENCODER_CHARS, SIZE  # noqa: E402
from model import GlyphCVAE, GlyphClassifier  # noqa: E402
import dials  # noqa: E402
import export as exp  # noqa: E402
from common import index as pack_index, safetensors, saelens  # noqa: E402
from common.auc import auc, auc_columns  # noqa: E402
from common.fp16 import round_half  # noqa: E402
from common.stages import Stage, StageRunner  # noqa: E402
from common.topk_sae import TopKTrain, evaluate, train_topk  # noqa: E402

logging.getLogger("fontTools").setLevel(logging.ERROR)

PRESETS = {
    "full": dict(style_dim=32, enc_width=16, dec_width=16, hidden=512, steps=14000, batch_faces=8,
                 chars_per_face=16, lr=1e-3, beta=1.0, vae=False, l2=0.0, ema=0.995, ckpt_every=100,
                 val_frac=0.1, per_family_cap=10, per_package_cap=40, roots=None, limit_files=None,
                 clf_steps=4000, clf_width=32, sae_d=512, sae_k=8, sae_steps=1200,
                 # a coarse style SAE beside the fine one, same k and training: 64 features explain
                 # 0.91 of the held-out style and fire on many faces each (upright, light, narrow)
                 sae2_d=64,
                 style_subsets=48, sheet_faces=200, half=True),
    "smoke": dict(style_dim=32, enc_width=4, dec_width=4, hidden=32, steps=12, batch_faces=4,
                  chars_per_face=4, lr=1e-3, beta=1.0, vae=False, l2=0.0, ema=0.9, ckpt_every=6,
                  val_frac=0.34, per_family_cap=10, per_package_cap=40,
                  roots=["/usr/share/fonts/truetype/dejavu"], limit_files=8,
                  clf_steps=10, clf_width=4, sae_d=64, sae_k=4, sae_steps=60, sae2_d=16,
                  style_subsets=8, sheet_faces=8, half=True),
}
PRESETS["fixture"] = dict(PRESETS["smoke"], steps=0, clf_steps=5, sae_steps=30, sae2_d=None)
PACKAGES = ["python3-fonttools", "python3-pil", "libraqm0"]  # plus the fonts-* packages owning the fonts read

SPECIMEN = "Hamburgefonstiv"
ENC_IDX = [CHARSET.index(c) for c in ENCODER_CHARS]


class Log:
    def __init__(self, path=None):
        self.path = path
        self.t0 = time.time()

    def __call__(self, *a):
        s = f"[{time.strftime('%H:%M:%S')} +{time.time() - self.t0:7.1f}s] " + " ".join(str(x) for x in a)
        print(s, flush=True)
        if self.path:
            with open(self.path, "a") as f:
                f.write(s + "\n")


# ----------------------------------------------------------------------------- data

def load_data(cfg, work, log):
    if cfg["roots"]:
        fontdata.FONT_ROOTS = [r for r in cfg["roots"] if os.path.isdir(r)] or ["/usr/share/fonts"]
    faces, g = fontdata.build_dataset(os.path.join(work, "cache"), per_family_cap=cfg["per_family_cap"],
                                      per_package_cap=cfg["per_package_cap"],
                                      limit_files=cfg["limit_files"], seed=cfg["seed"], log=log)
    if len(faces) < 3:
        raise SystemExit(f"need at least 3 faces covering the charset, found {len(faces)} "
                         f"(install fonts-dejavu-core, or the fonts-* list in models/README.md)")
    rng = np.random.RandomState(cfg["seed"])
    perm = rng.permutation(len(faces))
    n_val = max(1, int(round(cfg["val_frac"] * len(faces))))
    val = np.sort(perm[:n_val])
    train = np.sort(perm[n_val:])
    log(f"data: {len(faces)} faces, {len(train)} train / {len(val)} held-out faces, "
        f"{len(set(f.family for f in faces))} families")
    return faces, g, train, val


def to_float(a):
    return torch.from_numpy(a.astype(np.float32) / 255.0)


def random_masks(rng, n, k, min_k=3):
    m = np.zeros((n, k), np.float32)
    for i in range(n):
        kk = rng.randint(min(min_k, k), k + 1)
        m[i, rng.choice(k, kk, replace=False)] = 1
    return m


# ----------------------------------------------------------------------------- training

def make_model(cfg):
    return GlyphCVAE(len(CHARSET), len(ENCODER_CHARS), cfg["style_dim"], cfg["enc_width"],
                     cfg["dec_width"], cfg["hidden"])


def train(cfg, g, train_idx, val_idx, work, log):
    torch.manual_seed(cfg["seed"])
    rng = np.random.RandomState(cfg["seed"] + 1)
    model = make_model(cfg)
    ema = copy.deepcopy(model)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    ckpt = os.path.join(work, "cvae.pt")
    step0 = 0
    if os.path.exists(ckpt) and not cfg.get("fresh"):
        st = torch.load(ckpt)
        if same_run(st.get("cfg_key"), cfg_key(cfg)):
            model.load_state_dict(st["model"])
            ema.load_state_dict(st["ema"])
            opt.load_state_dict(st["opt"])
            rng.set_state(st["rng"])
            torch.set_rng_state(st["torch_rng"])
            step0 = st["step"]
            log(f"train: resumed at step {step0}")
    n_params = sum(p.numel() for p in model.parameters())
    log(f"train: {n_params / 1e6:.2f}M params, {cfg['steps']} steps of {cfg['batch_faces']} faces x "
        f"{cfg['chars_per_face']} chars")
    B, M, K = cfg["batch_faces"], cfg["chars_per_face"], len(ENC_IDX)
    t0 = time.time()
    stop = min(cfg["steps"], cfg.get("stop_at") or cfg["steps"])
    for step in range(step0, stop):
        lr = cfg["lr"] * min(1.0, (step + 1) / 100) * (0.3 + 0.7 * 0.5 * (1 + math.cos(math.pi * step / cfg["steps"])))
        for pg in opt.param_groups:
            pg["lr"] = lr
        fi = rng.choice(train_idx, B, replace=len(train_idx) < B)
        x_enc = to_float(g[fi][:, ENC_IDX])
        mask = torch.from_numpy(random_masks(rng, B, K))
        ci = np.stack([rng.choice(len(CHARSET), M, replace=False) for _ in range(B)])
        target = to_float(g[fi[:, None], ci].reshape(B * M, 1, SIZE, SIZE))
        mu, lv = model.encoder(x_enc, mask)
        if cfg["vae"]:
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * lv)
            kl = (-0.5 * (1 + lv - mu ** 2 - lv.exp()).sum(1)).mean()
            reg = cfg["beta"] * kl / (M * SIZE * SIZE)
        else:
            # deterministic style (the encoder's batch-standardised mean; optional L2 pull to 0);
            # the log-variance head is not trained
            z = mu
            kl = (mu ** 2).sum(1).mean()
            reg = cfg["l2"] * (mu ** 2).mean()
        logits = model.decoder.logits(z.repeat_interleave(M, 0), torch.from_numpy(ci.reshape(-1)).long())
        rec = F.binary_cross_entropy_with_logits(logits, target)
        loss = rec + reg
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        with torch.no_grad():
            d = cfg["ema"] if step > 50 else 0.0
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
            for be, bm in zip(ema.buffers(), model.buffers()):   # BatchNorm running statistics
                be.copy_(bm)
        if (step + 1) % max(1, cfg["ckpt_every"] // 4) == 0:
            log(f"step {step + 1}/{cfg['steps']} rec {rec.item():.4f} {'kl' if cfg['vae'] else '|style|^2'} {kl.item():.2f} lr {lr:.2e} "
                f"{(time.time() - t0) / (step + 1 - step0):.2f}s/step")
        if (step + 1) % cfg["ckpt_every"] == 0 or step + 1 in (cfg["steps"], stop):
            psnr = quick_psnr(ema, g, val_idx[:16])
            torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                        "rng": rng.get_state(), "torch_rng": torch.get_rng_state(), "step": step + 1,
                        "cfg_key": cfg_key(cfg), "cfg": cfg}, ckpt + ".tmp")
            os.replace(ckpt + ".tmp", ckpt)
            log(f"ckpt step {step + 1}: held-out PSNR (16 faces) {psnr:.2f} dB")
    if cfg["steps"] == 0 or not os.path.exists(ckpt):
        torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "step": 0,
                    "cfg_key": cfg_key(cfg), "cfg": cfg}, ckpt)
    return ema


def same_run(a, b):
    """Checkpoints resume across a longer --steps (the LR schedule then spans the new length)."""
    if not a or not b:
        return False
    da, db = json.loads(a), json.loads(b)
    da.pop("steps", None)
    db.pop("steps", None)
    return da == db


def cfg_key(cfg):
    keys = ("style_dim", "enc_width", "dec_width", "hidden", "steps", "batch_faces", "chars_per_face",
            "lr", "beta", "vae", "l2", "seed")
    return json.dumps({k: cfg[k] for k in keys}, sort_keys=True)


@torch.no_grad()
def encode_faces(model, g, idx, mask=None):
    out = []
    for s in range(0, len(idx), 64):
        x = to_float(g[idx[s:s + 64]][:, ENC_IDX])
        m = None if mask is None else mask[s:s + 64]
        out.append(model.encoder(x, m)[0])
    return torch.cat(out) if out else torch.zeros(0, model.style_dim)


@torch.no_grad()
def decode_all(model, style):
    """style [N, D] -> [N, C, 64, 64] float."""
    C = len(CHARSET)
    outs = []
    for s in range(0, len(style), 16):
        st = style[s:s + 16]
        ids = torch.arange(C).repeat(len(st))
        outs.append(model.decoder(st.repeat_interleave(C, 0), ids).reshape(len(st), C, SIZE, SIZE))
    return torch.cat(outs)


def quick_psnr(model, g, idx):
    model.eval()
    rec = decode_all(model, encode_faces(model, g, idx))
    mse = ((rec - to_float(g[idx])) ** 2).mean(dim=(2, 3)).clamp(min=1e-10)
    model.train()
    return float((10 * torch.log10(1.0 / mse)).mean())


# ----------------------------------------------------------------------------- classifier

CLF_BATCH = 128  # glyphs per classifier step
CLF_SHIFT = 2  # each batch moved by up to this many pixels each way


def train_classifier(cfg, g, train_idx, val_idx, work, log):
    path = os.path.join(work, f"classifier-{cfg['clf_steps']}-{cfg['clf_width']}-{len(train_idx)}.pt")
    clf = GlyphClassifier(len(CHARSET), cfg["clf_width"])
    if os.path.exists(path):
        clf.load_state_dict(torch.load(path))
        log(f"classifier: cached {path}")
        return clf.eval()
    torch.manual_seed(cfg["seed"] + 7)
    rng = np.random.RandomState(cfg["seed"] + 7)
    opt = torch.optim.Adam(clf.parameters(), lr=2e-3)
    C = len(CHARSET)
    for step in range(cfg["clf_steps"]):
        fi = rng.choice(train_idx, CLF_BATCH)
        ci = rng.randint(0, C, CLF_BATCH)
        x = to_float(g[fi, ci][:, None])
        # small shifts so it reads shapes, not exact pixel positions
        dx, dy = rng.randint(-CLF_SHIFT, CLF_SHIFT + 1, 2)
        x = torch.roll(x, shifts=(int(dy), int(dx)), dims=(2, 3))
        loss = F.cross_entropy(clf(x), torch.from_numpy(ci).long())
        for pg in opt.param_groups:
            pg["lr"] = 2e-3 * 0.5 * (1 + math.cos(math.pi * step / max(1, cfg["clf_steps"])))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % max(1, cfg["clf_steps"] // 5) == 0:
            log(f"classifier step {step}/{cfg['clf_steps']} loss {loss.item():.3f}")
    clf.eval()
    torch.save(clf.state_dict(), path)
    return clf


@torch.no_grad()
def classify_acc(clf, glyphs):
    """glyphs [N, C, 64, 64] float -> accuracy of naming each character."""
    N, C = glyphs.shape[:2]
    pred = []
    x = glyphs.reshape(N * C, 1, SIZE, SIZE)
    for s in range(0, len(x), 512):
        pred.append(clf(x[s:s + 512]).argmax(1))
    pred = torch.cat(pred)
    return float((pred == torch.arange(C).repeat(N)).float().mean()) if len(pred) else float("nan")


# ----------------------------------------------------------------------------- metadata AUC

def metadata_values(faces):
    vals = []
    for wc in fontdata.WEIGHT_NAMES.values():
        vals.append(("weight_class", wc, [f.weight_class == wc for f in faces]))
    vals.append(("weight_class", "bold-or-heavier", [f.weight >= 600 for f in faces]))
    for b in (True, False):
        vals.append(("italic", b, [f.italic == b for f in faces]))
        vals.append(("monospace", b, [f.monospace == b for f in faces]))
    for sv in ("serif", "sans", "script", "decorative", "rounded", "flared"):
        vals.append(("serif", sv, [f.serif == sv for f in faces]))
    return vals


def feature_aucs(acts, faces, min_count=3):
    """acts [N, d_sae]. For each metadata value with >= min_count faces on both sides: the best
    single feature (its activation as the score, higher = has the value) and its AUC."""
    out = []
    for key, val, lab in metadata_values(faces):
        lab = np.array(lab)
        if lab.sum() < min_count or (~lab).sum() < min_count:
            continue
        best, bf = -1.0, -1
        aucs = auc_columns(acts, lab)
        for j in range(acts.shape[1]):
            if acts[:, j].max() <= 0:
                continue
            a = float(aucs[j])
            if a > best:
                best, bf = a, j
        out.append({"key": key, "value": val, "n_pos": int(lab.sum()), "n_neg": int((~lab).sum()),
                    "feature": int(bf), "auc": round(best, 4)})
    return out


# ----------------------------------------------------------------------------- images

def glyph_row(glyphs):
    """[n, 64, 64] float ink -> uint8 image row (ink dark)."""
    n = len(glyphs)
    row = np.concatenate([glyphs[i] for i in range(n)], 1)
    return (255 * (1 - np.clip(row, 0, 1))).round().astype(np.uint8)


def save_sheet(path, g_faces):
    """g_faces uint8 [F, C, 64, 64] (255 ink) -> faces.png, one row per face."""
    Fn, C = g_faces.shape[:2]
    sheet = 255 - g_faces.transpose(0, 2, 1, 3).reshape(Fn * SIZE, C * SIZE)
    Image.fromarray(sheet.astype(np.uint8), "L").save(path, optimize=True)


def labelled_rows(path, rows, labels, scale=0.75, pad=150):
    """rows: list of uint8 row images (same width) stacked with a text label on the left."""
    h = rows[0].shape[0]
    w = rows[0].shape[1]
    img = Image.new("L", (pad + w, h * len(rows)), 255)
    d = ImageDraw.Draw(img)
    for i, (r, lab) in enumerate(zip(rows, labels)):
        img.paste(Image.fromarray(r), (pad, i * h))
        d.text((6, i * h + h // 2 - 6), lab, fill=0)
    if scale != 1:
        img = img.resize((int(img.width * scale), int(img.height * scale)), Image.LANCZOS)
    img.save(path, optimize=True)


# ----------------------------------------------------------------------------- finish

def augment(x, kind):
    """x [B, K, 64, 64] ink in [0, 1] -> a plausible restyling of the same glyphs."""
    b, k = x.shape[:2]
    y = x.reshape(b * k, 1, SIZE, SIZE)
    if kind == "dilate":
        y = F.max_pool2d(y, 3, 1, 1)
    elif kind == "erode":
        y = -F.max_pool2d(-y, 3, 1, 1)
    elif kind in ("shear+", "shear-"):
        sh = 0.2 if kind == "shear+" else -0.2
        theta = torch.tensor([[1.0, sh, 0.0], [0.0, 1.0, 0.0]]).expand(len(y), 2, 3)
        grid = F.affine_grid(theta, list(y.shape), align_corners=False)
        y = F.grid_sample(y, grid, align_corners=False)
    return y.reshape(b, k, SIZE, SIZE)


@torch.no_grad()
def style_samples(model, g, idx_all, n_subsets, rng):
    e = model.encoder
    feats = []
    augs = ["none", "dilate", "erode", "shear+", "shear-"]
    for s in range(0, len(idx_all), 64):
        idx = idx_all[s:s + 64]
        x0 = to_float(g[idx][:, ENC_IDX])
        b, k = x0.shape[:2]
        for ai, kind in enumerate(augs):
            x = augment(x0, kind) if kind != "none" else x0
            h = e.proj(e.cnn(x.reshape(b * k, 1, SIZE, SIZE)).reshape(b * k, -1)).reshape(b, k, -1) + e.pos
            feats.append(e.norm(e.head(h.mean(1))[:, : e.style_dim]))
            reps = n_subsets if kind == "none" else max(1, n_subsets // 4)
            for _ in range(reps):
                m = torch.from_numpy(random_masks(rng, b, k)).unsqueeze(-1)
                feats.append(e.norm(e.head((h * m).sum(1) / m.sum(1))[:, : e.style_dim]))
    return torch.cat(feats).numpy()


@torch.no_grad()
def recalibrate_style_norm(model, g, idx):
    """Exact BatchNorm statistics of the style over the training faces (all encoder glyphs)."""
    bn = model.encoder.norm
    bn.reset_running_stats()
    bn.momentum = None          # cumulative average
    model.encoder.train()
    for s in range(0, len(idx), 64):
        model.encoder(to_float(g[idx[s:s + 64]][:, ENC_IDX]))
    bn.momentum = 0.02
    model.eval()


def sae_train_config(cfg, d_sae: int) -> TopKTrain:
    """A style SAE's training: decoder rows from centred samples, inputs scaled to norm
    sqrt(d), cosine schedule, AuxK with coefficient 1/8, and a one-sided firing-rate balance so
    no feature stays dead while broad features keep their rate."""
    return TopKTrain(d_sae=d_sae, k=cfg["sae_k"], steps=cfg["sae_steps"], batch=512, lr=1e-3,
                     aux_k=min(d_sae // 2, 4 * cfg["style_dim"]), aux_coef=1 / 8, dead_after=10_000,
                     init="data", b_dec_init="mean", schedule="cosine", scale_inputs=True, balance=0.01)


def finish(cfg, faces, g, train_idx, val_idx, out, work, log, fixture=False, provenance=None):
    st = torch.load(os.path.join(work, "cvae.pt"))
    # the EMA and the raw weights both get their style statistics recomputed over the training
    # faces (BatchNorm running stats follow the raw weights); the better on 32 training faces ships
    cands = {}
    for key in ("ema", "model"):
        m_ = make_model(cfg)
        m_.load_state_dict(st[key])
        if cfg["half"]:
            round_half(m_)      # metrics are those of the shipped fp16 weights
        recalibrate_style_norm(m_, g, train_idx)
        cands[key] = (quick_psnr(m_, g, train_idx[:: max(1, len(train_idx) // 32)][:32]), m_)
        m_.eval()
    which = max(cands, key=lambda k_: cands[k_][0])
    model = cands[which][1].eval()
    steps_done = st["step"]
    log(f"finish: checkpoint at step {steps_done}; train-face PSNR ema {cands['ema'][0]:.2f} / raw "
        f"{cands['model'][0]:.2f} dB -> shipping the {which} weights")
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    metrics = {"steps": steps_done, "faces": len(faces), "train_faces": int(len(train_idx)),
               "heldout_faces": int(len(val_idx)),
               "families": len(set(f.family for f in faces))}

    # held-out reconstruction + legibility
    gv = to_float(g[val_idx])
    style_val = encode_faces(model, g, val_idx)
    rec = decode_all(model, style_val)
    mse = ((rec - gv) ** 2).mean(dim=(2, 3)).clamp(min=1e-10)
    metrics["heldout_psnr_db"] = round(float((10 * torch.log10(1 / mse)).mean()), 3)
    metrics["heldout_psnr_global_db"] = round(float(10 * torch.log10(1 / mse.mean())), 3)
    # from a subset of 3 encoder glyphs (the runtime may show fewer glyphs)
    rng = np.random.RandomState(cfg["seed"] + 3)
    m3 = torch.from_numpy(random_masks(rng, len(val_idx), len(ENC_IDX), 3) * 0)
    for i in range(len(val_idx)):
        m3[i, rng.choice(len(ENC_IDX), 3, replace=False)] = 1
    rec3 = decode_all(model, encode_faces(model, g, val_idx, m3))
    mse3 = ((rec3 - gv) ** 2).mean(dim=(2, 3)).clamp(min=1e-10)
    metrics["heldout_psnr_3glyphs_db"] = round(float((10 * torch.log10(1 / mse3)).mean()), 3)
    clf = train_classifier(cfg, g, train_idx, val_idx, work, log)
    metrics["classifier_acc_real_heldout"] = round(classify_acc(clf, gv), 4)
    metrics["classifier_acc_decoded_heldout"] = round(classify_acc(clf, rec), 4)
    metrics["classifier"] = {"steps": cfg["clf_steps"], "width": cfg["clf_width"], "batch": CLF_BATCH,
                             "shift_px": CLF_SHIFT}
    log(f"held-out: PSNR {metrics['heldout_psnr_db']} dB, classifier real "
        f"{metrics['classifier_acc_real_heldout']} / decoded {metrics['classifier_acc_decoded_heldout']}")

    # ONNX + parity
    ref_dir = os.path.join(work, "parity")
    nref = min(3, len(val_idx))
    exp.export_onnx(model, out, ref_dir, g[val_idx[:nref]][:, ENC_IDX].astype(np.float32) / 255.0,
                    np.array([0, 7, 26, 33, 52, 61, 12, 40], np.int64), half=cfg["half"], log=log)
    if cfg.get("skip_parity"):
        log("parity: skipped (--skip-parity)")
    else:
        metrics["onnx_parity"] = exp.run_parity(out, ref_dir, log=log)

    # style samples for the SAE: train faces under random glyph subsets, plus the same faces made
    # bolder / lighter (3x3 dilation / erosion) and slanted (+-0.2 shear), also under subsets
    srng = np.random.RandomState(cfg["seed"] + 11)
    X_tr = style_samples(model, g, train_idx, cfg["style_subsets"], srng)
    with torch.no_grad():
        mval = torch.from_numpy(random_masks(srng, len(val_idx) * 8, len(ENC_IDX)))
        X_val = torch.cat([style_val, encode_faces(model, g, np.repeat(val_idx, 8), mval)]).numpy()
    log(f"sae: {len(X_tr)} train style samples, {len(X_val)} held-out")
    with torch.no_grad():
        style_tr = encode_faces(model, g, train_idx)
    np.savez(os.path.join(work, "style_samples.npz"), X_tr=X_tr, X_val=X_val,
             style_tr=style_tr.numpy(), style_val=style_val.numpy(), train_idx=train_idx, val_idx=val_idx)
    # the fine SAE (sae/style: the dials, AUCs and figures below read it) and, in the full
    # preset, a coarse one (sae/style-<d>); both from the recipe's SAE seed
    sae_dirs = [("sae", cfg["sae_d"], "style")] + ([("sae_coarse", cfg["sae2_d"], f"style-{cfg['sae2_d']}")]
                                                  if cfg.get("sae2_d") else [])
    for key, d_sae, folder in sae_dirs:
        trained, _ = train_topk(X_tr, sae_train_config(cfg, d_sae), cfg["seed"] + 5, log=log)
        m_tr = evaluate(trained, X_tr)
        m_val = evaluate(trained, X_val)
        metrics[key] = {"id": f"style-{d_sae}", "dir": f"sae/{folder}", "d_in": cfg["style_dim"], "d_sae": d_sae,
                        "k": cfg["sae_k"], "steps": cfg["sae_steps"], "balance": 0.01,
                        "fve_heldout": round(m_val["fve"], 4), "fve_train": round(m_tr["fve"], 4),
                        "dead_fraction": round(m_tr["dead_fraction"], 4),
                        "mean_l0": round(m_val["mean_l0"], 3), "train_samples": m_tr["samples"]}
        saelens.write(os.path.join(out, "sae", folder), trained, saelens.topk_cfg(
            d_in=trained.d_in, d_sae=trained.d_sae, k=trained.k, hook="style", model_name="orrery-glyph-cvae",
            dataset="Debian fonts-* glyphs (see models/README.md)", context_size=1,
            trained_by="models/recipes/glyphs/recipe.py"), m_tr["density"])
        log(f"{key}: {metrics[key]}")
        if key == "sae":
            sae = trained

    # features vs metadata on held-out faces (and on train faces for reference)
    with torch.no_grad():
        a_val = sae.encode(style_val).numpy()
        a_tr = sae.encode(style_tr).numpy()
    fv = [faces[i] for i in val_idx]
    ft = [faces[i] for i in train_idx]
    au_val = feature_aucs(a_val, fv)
    au_tr = feature_aucs(a_tr, ft)
    # the honest variant: the feature is chosen on training faces, its AUC read on held-out faces
    pick = {(a["key"], a["value"]): a["feature"] for a in au_tr}
    for a in au_val:
        f_tr = pick.get((a["key"], a["value"]), -1)
        lab = np.array([next(l[0] for k, v, l in metadata_values([fc]) if k == a["key"] and v == a["value"])
                        for fc in fv])
        a["train_feature"] = f_tr
        a["train_feature_auc"] = round(auc(a_val[:, f_tr], lab), 4) if f_tr >= 0 else None
    metrics["feature_auc_heldout"] = au_val
    metrics["feature_auc_train"] = au_tr
    metrics["values_auc_ge_0.85_heldout"] = f"{sum(a['auc'] >= 0.85 for a in au_val)}/{len(au_val)}"
    metrics["values_auc_ge_0.85_train"] = f"{sum(a['auc'] >= 0.85 for a in au_tr)}/{len(au_tr)}"
    metrics["values_auc_ge_0.85_heldout_train_selected"] = (
        f"{sum((a['train_feature_auc'] or 0) >= 0.85 for a in au_val)}/{len(au_val)}")
    log(f"feature AUC >= 0.85: held-out {metrics['values_auc_ge_0.85_heldout']}, "
        f"train {metrics['values_auc_ge_0.85_train']}")
    for a in au_val:
        log(f"  {a['key']}={a['value']}: feature {a['feature']} AUC {a['auc']} ({a['n_pos']}/{a['n_neg']}); "
            f"train-chosen f{a['train_feature']} held-out AUC {a['train_feature_auc']}")

    # dial sweeps: how far a weight and a slant feature move the plain held-out faces
    if not fixture:
        plain = [j for j, i in enumerate(val_idx) if faces[i].weight == 400 and not faces[i].italic]
        spec_ids = torch.tensor([CHARSET.index(c) for c in SPECIMEN])

        def decode_specimen(st):
            n, G = len(st), len(spec_ids)
            return model.decoder(st.repeat_interleave(G, 0), spec_ids.repeat(n)).reshape(n, G, SIZE, SIZE)

        plain = plain or list(range(len(val_idx)))
        metrics["dials"] = dials.dial_sweeps(decode_specimen, sae, a_tr, ft, style_val[plain], auc_columns, log)
        metrics["dials"]["figures"] = dial_figures(decode_specimen, sae, metrics["dials"], style_val[plain[:2]],
                                                   [faces[val_idx[j]].name for j in plain[:2]], out)

    # steering figures (training-face AUCs choose the feature: more faces)
    figs = {}
    if not fixture:
        figs = steering_figures(model, sae, a_tr, au_tr, faces, g, val_idx, style_val, out, log)
    metrics["figures"] = figs

    # examples sheet: every held-out face, then train faces at random, up to sheet_faces
    erng = np.random.RandomState(cfg["seed"] + 13)
    n_tr = max(0, cfg["sheet_faces"] - len(val_idx))
    ex = list(val_idx[: cfg["sheet_faces"]]) + list(erng.choice(train_idx, min(n_tr, len(train_idx)), replace=False))
    ex = sorted(ex, key=lambda i: faces[i].name)
    save_sheet(os.path.join(out, "faces.png"), g[ex])
    vset = set(int(i) for i in val_idx)
    with open(os.path.join(out, "faces.jsonl"), "w") as f:
        for i in ex:
            fc = faces[i]
            f.write(json.dumps({"name": fc.name, "meta": fc.meta(), "license": fc.license,
                                "package": fc.package, "split": "val" if int(i) in vset else "train"}) + "\n")

    # fonts.json: each family, its licence and Debian package, and how many faces trained/held out
    fams = {}
    for i, fc in enumerate(faces):
        d = fams.setdefault(fc.family, {"family": fc.family, "license": set(), "package": set(),
                                        "faces": 0, "heldout": 0})
        d["license"].add(fc.license)
        d["package"].add(fc.package)
        d["faces"] += 1
        d["heldout"] += int(i in vset)
    with open(os.path.join(out, "fonts.json"), "w") as f:
        json.dump([{**d, "license": sorted(d["license"]), "package": sorted(d["package"])}
                   for d in sorted(fams.values(), key=lambda d: d["family"].lower())], f, indent=0)

    lic_counts = {}
    for fc in faces:
        lic_counts[fc.license] = lic_counts.get(fc.license, 0) + 1
    manifest = {
        "format": 1,
        "id": "orrery-glyphs-tiny" if fixture else "orrery-glyphs",
        "name": "Typefaces (tiny fixture)" if fixture else "Typefaces of Debian (glyph CVAE)",
        "kind": "glyph-cvae",
        "version": "1.0.0",
        "license": ("Weights: MIT (Orrery). Data: glyphs rendered from Debian fonts-* packages, each "
                    "under its own licence (" + ", ".join(f"{k} x{v}" for k, v in
                                                      sorted(lic_counts.items(), key=lambda kv: -kv[1])[:8])
                    + "; per face in faces.jsonl, per family in fonts.json)."),
        "source": (f"Character-conditioned VAE trained with models/recipes/glyphs/recipe.py "
                   f"(seed {cfg['seed']}, {steps_done} steps, Debian PyTorch on CPU) on "
                   f"{len(train_idx)} faces from {metrics['families']} families of Debian's fonts-* "
                   f"packages, rendered 64x64 at {fontdata.EM_PX} px/em with PIL; {len(val_idx)} whole "
                   f"faces held out. TopK SAE (k={cfg['sae_k']}, {cfg['sae_d']} features) on the style"
                   + (f", and a coarse one of {cfg['sae2_d']} features." if cfg.get("sae2_d") else ".")),
        "model": {
            "onnx": {"encoder": "encoder.onnx", "decoder": "decoder.onnx"},
            "charset": CHARSET,
            "glyph": {"size": SIZE, "range": [0, 1], "ink": 1},
            "style_dim": cfg["style_dim"],
            "encoder_chars": ENCODER_CHARS,
        },
        "saes": [{"id": metrics[key]["id"], "hook": "style", "dir": metrics[key]["dir"]} for key, _, _ in sae_dirs],
        # Labels may name these; family is an identity (two to seven faces each), weight and
        # the PANOSE digits repeat weight_class and serif as raw codes.
        "examples": {"sheet": "faces.png", "tile": SIZE, "meta": "faces.jsonl",
                     "label_keys": ["weight_class", "italic", "width", "monospace", "serif"]},
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    if provenance is not None:
        metrics["provenance"] = provenance()
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    check_pack(out)
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(out) for fn in fns)
    log(f"pack: {out} ({total / 1e6:.2f} MB)")
    return metrics


def check_pack(out):
    """The pack has every file its manifest names, the sheet matches faces.jsonl, and the SAE
    weights have the shapes cfg.json says."""
    with open(os.path.join(out, "manifest.json")) as f:
        man = json.load(f)
    names = list(man["model"]["onnx"].values()) + [man["examples"]["sheet"], man["examples"]["meta"]]
    for s in man["saes"]:
        names += [f"{s['dir']}/cfg.json", f"{s['dir']}/sae_weights.safetensors", f"{s['dir']}/sparsity.safetensors"]
    for n in names:
        assert os.path.isfile(os.path.join(out, n)), f"pack misses {n}"
    sheet = Image.open(os.path.join(out, man["examples"]["sheet"]))
    with open(os.path.join(out, man["examples"]["meta"])) as f:
        rows = [json.loads(line) for line in f]
    t = man["examples"]["tile"]
    assert sheet.mode == "L" and sheet.width == t * len(man["model"]["charset"]), "sheet width"
    assert sheet.height == t * len(rows), "sheet rows != faces.jsonl lines"
    for s in man["saes"]:
        with open(os.path.join(out, s["dir"], "cfg.json")) as f:
            c = json.load(f)
        w = safetensors.load_file(os.path.join(out, s["dir"], "sae_weights.safetensors"))
        assert w["W_enc"].shape == (c["d_in"], c["d_sae"]) and w["W_dec"].shape == (c["d_sae"], c["d_in"])
        assert c["d_in"] == man["model"]["style_dim"] and c["hook_name"] == s["hook"] == "style"


@torch.no_grad()
def dial_figures(decode, sae, sweeps, style, names, out):
    """Per measure, the chosen feature's dial on two plain held-out faces: undialled, where it
    first reaches the goal, and its largest change above the SSIM floor."""
    figs = {}
    os.makedirs(os.path.join(out, "figures"), exist_ok=True)
    for measure, sw in sweeps.items():
        b = sw["best"]
        if not b:
            continue
        f, acts = b["feature"], sae.encode(style)
        settings = [("undialled", None)] + [(k, b[k]) for k in ("reached", "best") if b.get(k)]
        rows, labels = [], []
        for j, name in enumerate(names):
            for tag, step in settings:
                st = style[j:j + 1] if step is None else \
                    style[j:j + 1] + (step["value"] - acts[j, f]) * sae.W_dec[f]
                rows.append(glyph_row(decode(st)[0].numpy()))
                unit = "%" if measure == "weight" else " deg"
                labels.append(name[:22] if step is None else
                              f"  f{f} {step['mult']}x: {step['change']:+.0f}{unit}, SSIM {step['ssim']:.2f}")
        name = f"dial-{measure}.png"
        labelled_rows(os.path.join(out, "figures", name), rows, labels, pad=260)
        figs[measure] = f"figures/{name}"
    return figs


@torch.no_grad()
def steering_figures(model, sae, a_tr, aucs, faces, g, val_idx, style_val, out, log):
    """Before/after specimens where one SAE feature is turned up on a held-out face."""
    figdir = os.path.join(out, "figures")
    os.makedirs(figdir, exist_ok=True)
    spec_ids = torch.tensor([CHARSET.index(c) for c in SPECIMEN])
    want = [("bolder", "weight_class", "bold"), ("italic", "italic", True), ("serif", "serif", "serif"),
            ("monospace", "monospace", True)]
    by = {(a["key"], a["value"]): a for a in aucs}
    # a plain held-out face: regular, upright, proportional sans (fallback: first held-out face)
    cand = [j for j, i in enumerate(val_idx) if faces[i].weight == 400 and not faces[i].italic
            and not faces[i].monospace and faces[i].serif == "sans"]
    cand = cand or list(range(len(val_idx)))
    out_figs = {}
    for j0 in cand[:2]:
        base = style_val[j0:j0 + 1]
        acts = sae.encode(base)
        for tag, key, val in want:
            a = by.get((key, val))
            if a is None or a["feature"] < 0:
                continue
            f = a["feature"]
            on = a_tr[:, f][a_tr[:, f] > 0]
            hi = float(np.percentile(on, 95)) if len(on) else 1.0
            rows, labels = [], []
            for mult in (0.0, 2.0, 4.0):
                target = hi * mult if mult else float(acts[0, f])
                st = base + (target - acts[0, f]) * sae.W_dec[f]
                rows.append(glyph_row(model.decoder(st.repeat(len(spec_ids), 1), spec_ids)[:, 0].numpy()))
                labels.append("original" if mult == 0 else f"f{f} = {target:.2f}")
            name = f"steer-{tag}-{faces[val_idx[j0]].postscript.lower()}.png"
            labelled_rows(os.path.join(figdir, name), rows, labels)
            out_figs.setdefault(tag, []).append({"file": f"figures/{name}", "feature": f, "auc": a["auc"],
                                                 "face": faces[val_idx[j0]].name})
    # reconstruction figure: real vs decoded held-out glyphs
    rows, labels = [], []
    for j in range(min(4, len(val_idx))):
        i = val_idx[j * max(1, len(val_idx) // 4)]
        jj = list(val_idx).index(i)
        real = g[i][[CHARSET.index(c) for c in SPECIMEN]].astype(np.float32) / 255
        dec = model.decoder(style_val[jj:jj + 1].repeat(len(spec_ids), 1), spec_ids)[:, 0].numpy()
        rows += [glyph_row(real), glyph_row(dec)]
        labels += [faces[i].name[:22], "  decoded"]
    labelled_rows(os.path.join(figdir, "heldout-reconstructions.png"), rows, labels)
    out_figs["reconstructions"] = "figures/heldout-reconstructions.png"
    log(f"figures: {json.dumps(out_figs)[:400]}")
    return out_figs


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny slice, all stages, temp dir")
    ap.add_argument("--fixture", action="store_true", help="write tests/fixtures/packs/glyphs-tiny")
    ap.add_argument("--stage", choices=["all", "train", "classifier", "finish"], default="all")
    ap.add_argument("--out", default=None)
    ap.add_argument("--work", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--stop-at", type=int, default=None,
                    help="stop training at this step (the LR schedule still spans --steps)")
    ap.add_argument("--sae-steps", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-parity", action="store_true")
    ap.add_argument("--force", default="", help="re-run these stages (data,train,pack,index) even when up to date")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    preset = "smoke" if args.smoke else "fixture" if args.fixture else "full"
    cfg = dict(PRESETS[preset], seed=args.seed, skip_parity=args.skip_parity)
    if args.steps is not None:
        cfg["steps"] = args.steps
    cfg["stop_at"] = args.stop_at
    if args.sae_steps is not None:
        cfg["sae_steps"] = args.sae_steps
    tmp = None
    if args.smoke:
        tmp = tempfile.mkdtemp(prefix="glyphs-smoke-")
        work, out = args.work or os.path.join(tmp, "work"), args.out or os.path.join(tmp, "pack")
    elif args.fixture:
        tmp = tempfile.mkdtemp(prefix="glyphs-fixture-")
        work = args.work or os.path.join(tmp, "work")
        out = args.out or os.path.join(REPO, "tests", "fixtures", "packs", "glyphs-tiny")
    else:
        work = args.work or os.path.join(HERE, "work")
        out = args.out or os.path.join(REPO, "models", "glyphs")
    os.makedirs(work, exist_ok=True)
    log = Log(os.path.join(work, "recipe.log"))
    log(f"glyphs recipe: preset {preset}, stage {args.stage}, work {work}, out {out}")
    t0 = time.time()
    roots = [r for r in (cfg["roots"] or fontdata.FONT_ROOTS) if os.path.isdir(r)]
    cache, ckpt = os.path.join(work, "cache"), os.path.join(work, "cvae.pt")
    loaded = {}

    def data():
        if "faces" not in loaded:
            loaded["faces"] = load_data(cfg, work, log)
        return loaded["faces"]

    def stage_train(ctx):  # resumes from cvae.pt by itself (also across a longer --steps)
        faces, g, tr, va = data()
        train(cfg, g, tr, va, work, log)

    def stage_pack(ctx):
        faces, g, tr, va = data()
        m = finish(cfg, faces, g, tr, va, out, work, log, fixture=args.fixture,
                   provenance=lambda: runner.provenance({f"fonts:{r}": r for r in roots}, PACKAGES))
        log("metrics: " + json.dumps({k: v for k, v in m.items()
                                      if not k.startswith("feature_auc") and k not in ("provenance", "dials")})[:1500])

    train_keys = ("style_dim", "enc_width", "dec_width", "hidden", "steps", "batch_faces", "chars_per_face", "lr",
                  "beta", "vae", "l2", "ema", "ckpt_every", "val_frac", "seed", "stop_at")
    stages = [
        Stage("data", lambda ctx: data(), inputs=roots, outputs=[cache],
              params={k: cfg[k] for k in ("per_family_cap", "per_package_cap", "limit_files", "seed")}),
        Stage("train", stage_train, inputs=[cache], outputs=[ckpt], params={k: cfg[k] for k in train_keys}),
        Stage("pack", stage_pack, inputs=[cache, ckpt] + [os.path.join(HERE, f) for f in ("recipe.py", "export.py", "parity.mjs")],
              outputs=[os.path.join(out, "manifest.json"), os.path.join(out, "metrics.json")],
              params={k: v for k, v in cfg.items() if k not in ("stop_at",)} | {"fixture": args.fixture}),
        Stage("index", lambda ctx: pack_index.build(out, log, thumbnails=False),  # cut from faces.png
              inputs=[os.path.join(out, "metrics.json")],
              outputs=[os.path.join(out, pack_index.INDEX_FILE), os.path.join(out, "manifest.json")]),
    ]
    if args.fixture:  # a test fixture ships no index: the tests build theirs from it
        stages = stages[:-1]
    runner = StageRunner(work, stages, log=log, root=REPO, out=out)
    only = {"all": None, "train": ["data", "train"], "finish": [s.name for s in stages if s.name != "train"]}.get(args.stage)
    try:
        if args.stage == "classifier":
            faces, g, tr, va = data()
            train_classifier(cfg, g, tr, va, work, log)
        else:
            runner.run(only=only, force=[s for s in args.force.split(",") if s])
            log(f"stages run: {', '.join(runner.ran) or 'none'}; up to date: {', '.join(runner.skipped) or 'none'}")
        log(f"done in {time.time() - t0:.1f}s")
    finally:
        if tmp and not args.work:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
