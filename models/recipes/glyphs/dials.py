"""Typeface dial sweeps: how far one style-SAE feature's dial moves the measured stroke weight or
slant of a face before its letters stop looking like that face.

A dial pins the feature to a value (`mult` times its 95th-percentile activation on training
faces) and keeps the SAE's error, as the app's pin dial does. Each setting decodes a specimen of
every chosen face; SSIM is taken against the same face decoded with the dial untouched, glyph by
glyph. Walking the dial up from 0.5x, the sweep stops at the first setting whose mean SSIM drops
below the floor (0.6); the figure is the largest change seen before it.

Measures (the same two the app's index reads for its glyph effects, main/index/build/descriptors.ts):
- stroke weight: the ink of each glyph (sum of ink in [0, 1]), relative to the undialled glyph;
- slant: the ink-weighted shear of each glyph, atan(cov(x, up) / var(up)) in degrees (tops leaning
  right are positive), as a difference.
"""
from __future__ import annotations

import numpy as np
import torch

from common.ssim import ssim

FLOOR = 0.6
MULTS = [0.5 * i for i in range(1, 25)]  # 0.5x .. 12x
GOALS = {"weight": 20.0, "slant": 8.0}  # what the typeface dials are asked to reach (% ink, degrees)


def ink(glyphs: torch.Tensor) -> torch.Tensor:
    """[N, G, H, W] ink in [0, 1] -> [N, G] ink per glyph."""
    return glyphs.clamp(0, 1).sum((2, 3))


def slant_deg(glyphs: torch.Tensor) -> torch.Tensor:
    """[N, G, H, W] ink in [0, 1] -> [N, G] shear of each glyph in degrees (positive: tops lean right)."""
    h, w = glyphs.shape[2:]
    up = (h - 1 - torch.arange(h, dtype=torch.float32))[:, None].expand(h, w)
    x = torch.arange(w, dtype=torch.float32)[None, :].expand(h, w)
    m = glyphs.clamp(0, 1)
    total = m.sum((2, 3)).clamp_min(1e-6)
    mu_up = (m * up).sum((2, 3)) / total
    mu_x = (m * x).sum((2, 3)) / total
    du = up - mu_up[..., None, None]
    cov = (m * (x - mu_x[..., None, None]) * du).sum((2, 3)) / total
    var = (m * du * du).sum((2, 3)) / total
    return torch.rad2deg(torch.atan2(cov, var))


def measured(measure: str, glyphs: torch.Tensor) -> torch.Tensor:
    """Per face: the specimen's total ink (weight) or its glyphs' shears (slant, degrees)."""
    return ink(glyphs).sum(1) if measure == "weight" else slant_deg(glyphs)


def change(measure: str, before: torch.Tensor, after: torch.Tensor) -> float:
    """Mean over faces of the change from `measured` before to after: weight in % of ink, slant in degrees."""
    if measure == "weight":
        return float(((after / before.clamp_min(1e-6) - 1) * 100).mean())
    return float((after - before).mean())


@torch.no_grad()
def sweep(decode, sae, style: torch.Tensor, feature: int, unit: float, measure: str) -> dict:
    """decode: style [N, D] -> glyphs [N, G, H, W]. Returns the steps walked and the best change
    before SSIM to the undialled decode fell below FLOOR."""
    acts = sae.encode(style)
    before = decode(style)
    n, g, h, w = before.shape
    base = measured(measure, before)  # the undialled glyphs are measured once, not at every step
    steps, best, reached = [], None, None
    for mult in MULTS:
        dialled = style + (unit * mult - acts[:, feature])[:, None] * sae.W_dec[feature][None, :]
        after = decode(dialled)
        s = float(ssim(after.reshape(-1, 1, h, w), before.reshape(-1, 1, h, w)).reshape(n, g).mean())
        step = {"mult": mult, "value": round(unit * mult, 4), "ssim": round(s, 4),
                "change": round(change(measure, base, measured(measure, after)), 3)}
        steps.append(step)
        if s < FLOOR:
            break
        if best is None or step["change"] > best["change"]:
            best = step
        if reached is None and step["change"] >= GOALS[measure]:
            reached = step
    return {"feature": feature, "unit": round(unit, 4), "best": best, "reached": reached, "steps": steps}


def choose(a_tr: np.ndarray, positive: np.ndarray, auc_columns, top: int = 3) -> list[tuple[int, float]]:
    """The `top` features that rank the value's training faces highest (AUC), live ones only."""
    aucs = np.asarray(auc_columns(a_tr, positive), np.float64)
    aucs[a_tr.max(0) <= 0] = -1
    order = np.argsort(-aucs)[:top]
    return [(int(j), float(aucs[j])) for j in order if aucs[j] > 0.5]


def dial_sweeps(decode, sae, a_tr: np.ndarray, faces_tr: list, style_plain: torch.Tensor, auc_columns,
                log=print) -> dict:
    """For stroke weight (faces of weight 600 or more) and slant (italic faces): the candidate
    features by training AUC, each swept on the plain held-out faces; the best candidate is the figure."""
    out = {}
    for measure, positive in (("weight", np.array([f.weight >= 600 for f in faces_tr])),
                              ("slant", np.array([bool(f.italic) for f in faces_tr]))):
        runs = []
        for feature, auc in choose(a_tr, positive, auc_columns):
            on = a_tr[:, feature][a_tr[:, feature] > 0]
            unit = float(np.percentile(on, 95)) if len(on) else 1.0
            r = sweep(decode, sae, style_plain, feature, unit, measure)
            r["train_auc"] = round(auc, 4)
            runs.append(r)
            b = r["best"]
            unit_s = "%" if measure == "weight" else " deg"
            log(f"dial {measure}: feature {feature} (AUC {auc:.3f}): "
                + (f"at most {b['change']:+.1f}{unit_s} at {b['mult']}x (SSIM {b['ssim']:.3f})" if b else "no setting above the SSIM floor")
                + (f"; {GOALS[measure]:+g}{unit_s} first at {r['reached']['mult']}x (SSIM {r['reached']['ssim']:.3f})"
                   if r["reached"] else ""))
        # the figure: the candidate reaching the goal at the highest SSIM, else the largest change
        best = max((r for r in runs if r["best"]), default=None,
                   key=lambda r: (r["reached"] is not None, r["reached"]["ssim"] if r["reached"] else r["best"]["change"]))
        out[measure] = {"faces": int(style_plain.shape[0]), "floor": FLOOR, "goal": GOALS[measure],
                        "best": None if best is None else {k: best[k] for k in ("feature", "train_auc", "unit", "best", "reached")},
                        "candidates": runs}
    return out
