#!/usr/bin/python3
"""Writes the `## Emoji pack` section of models/README.md from models/emoji/metrics.json.

    /usr/bin/python3 models/recipes/emoji/readme_section.py [--print]

Only the text between `## Emoji pack` and the next `## ` heading is replaced (or the section is
appended), so the other packs' sections are left as they are. Every figure comes from metrics.json.
"""
from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))  # models/recipes: the shared toolkit, common/

from common import readme  # noqa: E402
PACK = os.path.join(REPO, "models", "emoji")
README = os.path.join(REPO, "models", "README.md")


def fmt_minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def section(m: dict) -> str:
    d, v, r, saes, auc = m["data"], m["vae"], m["reconstruction"], m["saes"], m["metadata_auc"]
    s = v["shape"]
    lat, sp = saes["latent"], saes["decoder.hook_spatial"]
    wide = [x for k, x in saes.items() if k not in ("latent", "decoder.hook_spatial")]  # a wider latent SAE
    t = m["timings_s"]
    size_mb = sum(os.path.getsize(os.path.join(root, f)) for root, _, fs in os.walk(PACK) for f in fs) / 1e6
    a_lat = auc["latent"]
    a_sp = auc["decoder.hook_spatial (max over positions)"]
    top_groups = sorted(a_lat["group"]["rows"], key=lambda x: -x["val_auc"])
    lines = [
        "## Emoji pack",
        "",
        "`models/emoji/` (kind `image-vae`, id `orrery-emoji`, "
        f"{size_mb:.1f} MB), built by `models/recipes/emoji/recipe.py` "
        "(`--smoke` runs every stage on 40 emoji in a temp dir in seconds; `--fixture` writes "
        "`tests/fixtures/packs/emoji-tiny/`).",
        "",
        "**Data.** Every fully-qualified emoji of Unicode 15.0 plus the 9 components (skin tones, hair) "
        f"listed in `emoji-test.txt` from Debian's `unicode-data` ({d['emoji']} emoji, "
        f"{len(d['not_drawable'])} not drawable), drawn with Debian's `fonts-noto-color-emoji` "
        "(NotoColorEmoji.ttf, CBDT bitmaps, PIL + libraqm at 109 px so ZWJ sequences, flags and keycaps "
        "become one glyph), composited on a neutral grey ground (RGB 0.5, 0.5, 0.5; the manifest's "
        "`image.background`) and downsampled to 64×64 (Lanczos). Name, group and subgroup come from "
        f"`emoji-test.txt`. Held out: {d['val']} emoji ({100 * d['val'] / d['emoji']:.0f}%, seeded), split "
        "by family so the skin-tone variants of one emoji are all on the same side; training uses the "
        f"other {d['train']}.",
        "",
        "**Licences.** Noto Color Emoji: SIL Open Font License 1.1. `emoji-test.txt`: Unicode License "
        "Agreement – Data Files and Software. Weights: MIT, like Orrery.",
        "",
        f"**Model.** Convolutional VAE, latent {s['latent_dim']}, {v['params'] / 1e6:.2f} M parameters. "
        f"Encoder: four stride-2 4×4 convolutions ({', '.join(map(str, s['enc']))} channels) and a linear "
        f"layer to `mu`, `logvar`. Decoder head: linear to {s['head']}×4×4, one ×2 upsampling to the "
        f"spatial map `decoder.hook_spatial` [{s['spatial_channels']}, 8, 8] (after SiLU). Decoder tail: "
        f"three ×2 upsamplings (3×3 convolution + pixel shuffle; {', '.join(map(str, s['tail']))} channels) with a residual 3×3 at 16×16, sigmoid "
        f"output in [0, 1]. Loss: per-image sum of squared errors"
        + (f" + {v['ssim_weight']:g} × (1 − SSIM) (the structure term keeps edges and small shapes that squared "
           "error alone lets blur)" if v.get("ssim_weight") else "")
        + f" + {v['beta']} × KL (KL weight ramped "
        f"over the first quarter), Adam, cosine learning rate, {v['epochs']} epochs, batch {v.get('batch', 64)}, seed "
        f"{m['seed']}. Weights are stored as fp16 in the ONNX graphs (Cast to float32 inside; opset "
        f"{m['onnx']['opset']}); every figure below is computed with those fp16 weights, and "
        "onnxruntime-node matches torch within "
        f"{m['onnx']['parity_tolerance']:g} on every output (`parity.mjs`, run by the recipe).",
        "",
        f"**Training time.** {fmt_minutes(t['vae_train_s'])} for the VAE, {fmt_minutes(t['saes_s'])} for the "
        f"{len(saes)} SAEs, {fmt_minutes(t['total_s'])} in all (wall clock), on one thread of a 2-core CPU that other "
        f"trainings shared (Debian python3-torch {m['torch']}).",
        "",
        "**Figures (held-out emoji).**",
        "",
        "| what | value |",
        "|---|---|",
        f"| reconstruction PSNR (mean over images) | {r['val']['psnr_db']:.2f} dB (train {r['train']['psnr_db']:.2f} dB) |",
        f"| reconstruction SSIM (Gaussian 11×11, σ 1.5) | {r['val']['ssim']:.3f} (train {r['train']['ssim']:.3f}) |",
    ]
    for name, x, what in ((lat["id"], lat, "`latent` (z = mu)"),
                          (sp["id"], sp, "`decoder.hook_spatial` (each of the 64 positions)"),
                          *((w["id"], w, "`latent` (z = mu), twice as wide") for w in wide)):
        lines.append(
            f"| SAE `{name}` on {what}: TopK k={x['k']}, {x['d_sae']} features | FVE {x['val']['fve']:.3f}, "
            f"mean L0 {x['val']['mean_l0']:.1f}, dead {100 * x['all_emoji']['dead_fraction']:.1f}% "
            f"(never fires on any of the {d['emoji']} emoji; {100 * x['val']['dead_fraction']:.0f}% silent on the "
            f"{d['val']} held-out alone) |")
    for field in ("group", "subgroup"):
        g = a_lat[field]
        lines.append(
            f"| {field}s with a latent-SAE feature of held-out AUC ≥ 0.85 | {g['values_with_val_auc_ge_0.85']} of "
            f"{g['values_evaluated']} (mean best AUC {g['mean_val_auc'] or 0:.2f}; same count on train: "
            f"{g['values_with_train_auc_ge_0.85']}) |")
    for field in ("group", "subgroup"):
        g = a_sp[field]
        lines.append(
            f"| {field}s with a spatial-SAE feature (max over positions) of held-out AUC ≥ 0.85 | "
            f"{g['values_with_val_auc_ge_0.85']} of {g['values_evaluated']} (mean {g['mean_val_auc'] or 0:.2f}) |")
    lines += [
        "",
        "AUC method: for each group or subgroup with at least 3 training and 2 held-out emoji, the feature "
        "with the best AUC on the training emoji is chosen, and its AUC at telling that value apart from "
        "all others is measured on the held-out emoji (so the choice cannot flatter the figure). "
        "Groups, best feature and held-out AUC: "
        + "; ".join(f"{x['value']} #{x['feature']} {x['val_auc']:.2f}" for x in top_groups) + ".",
        "",
        f"Reading: reconstructions keep colour, layout, silhouette and the larger inner shapes; small "
        f"detail (the eyes of small faces, flag emblems, writing on signs) stays soft after {v['epochs']} "
        "epochs on one CPU thread. Mirrored and shifted copies of the training emoji keep the decoder from "
        "learning the training set by heart, which without them it did within about 20 epochs (held-out "
        "error rising while the training error fell). The SAEs' features are visual: "
        "subgroups with a look of their own (faces, religious and AV symbols, letters and numbers) get a "
        "feature that finds them on unseen emoji, while Unicode's broad groups (Objects, Activities, …) "
        "mix very different pictures and no single sparse feature covers one; Flags comes closest "
        "(the spatial SAE's best flag feature). Subgroups with only 2–3 held-out emoji give noisy AUCs.",
        "",
        "SAEs: TopK (Gao et al. 2024) with AuxK (k_aux = d_in/2, coefficient 1/32) against dead features, "
        "decoder rows at unit norm, W_enc initialised as W_decᵀ. The latent SAE starts its decoder rows "
        "from centred training latents with b_dec at their mean, follows a cosine learning rate and raises "
        "the encoder bias of features that fire under a quarter of their share (`balance`). Its width and k "
        "were chosen by held-out FVE on the 100-epoch VAE's latent (the goal: at least 0.9): 512 features at "
        "k 32 explained 0.875, 768 at k 40 0.892, 1024 at k 40 0.888, at k 48 0.902, at k 56 0.912; the "
        "sharper the VAE, the more of its latent a sparse code must carry. "
        + "".join(f"`{w['id']}` is trained the same way at {w['d_sae']} features and the same k: its "
                  "features split the narrower SAE's, and more of them have top emoji of one kind (the "
                  "feature index's table below gives the values its labels name). " for w in wide)
        + "The spatial SAE "
        "starts from random unit rows with b_dec at the median. The latent SAE "
        f"trains on the {d['train']} training latents plus posterior samples z ~ q(z|x) and the latents of "
        f"mirrored and shifted copies of the training emoji ({lat['train_samples']} vectors); the spatial SAE on the 8×8 positions of the training latents and three posterior samples of each "
        f"({sp['train_samples']} vectors). Saved in SAELens's format (`cfg.json`, "
        "`sae_weights.safetensors`, `sparsity.safetensors` with log10 densities); the full numbers are "
        "in `models/emoji/metrics.json`.",
        "",
        "**Turning a feature** (rows: input, decode(z) at rest, after; the latent-SAE feature is pinned "
        "with the SAE's error term kept, as the app's pin does; the spatial one is painted on the top-left "
        "quarter of the 8×8 map only):",
        "",
    ]
    for f in m["figures"]:
        lines.append(f"- {f['title']}  ")
        lines.append(f"  ![{f['title']}](emoji/{f['file']})")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    with open(os.path.join(PACK, "metrics.json"), encoding="utf-8") as fh:
        text = section(json.load(fh))
    if "--print" in sys.argv:
        print(text)
        return
    readme.write_section(text, heading="## Emoji pack", readme=README)


if __name__ == "__main__":
    main()
