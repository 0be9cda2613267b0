#!/usr/bin/env python3
"""Render the '## Text pack' section of models/README.md from the pack's metrics.json, so the
figures there are the measured ones. Other sections of the file are left as they are.

  /usr/bin/python3 models/recipes/text/readme_section.py [models/text-fortunes]
"""
from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))  # models/recipes: the shared toolkit, common/

from common import readme  # noqa: E402
README = os.path.join(REPO, "models", "README.md")


def render(pack: str) -> str:
    m = json.load(open(os.path.join(pack, "metrics.json")))
    man = json.load(open(os.path.join(pack, "manifest.json")))
    lm, sae, st = m["lm"], m["sae"], m["steering"]
    saes = m.get("saes") or [sae]
    sae_ids = {s["hook"]: s["id"] for s in man["saes"]}
    mo = man["model"]
    corpus = m["corpus"]
    t = m.get("timings_seconds", {})
    rel = os.path.relpath(pack, REPO)
    L = []
    L.append("## Text pack")
    L.append("")
    L.append(f"`{rel}/` (`{man['id']}`), built by `models/recipes/text/recipe.py` (seed {m['seed']}); "
             "`--smoke` runs every stage on a tiny slice in seconds, `--fixture` writes "
             "`tests/fixtures/packs/text-tiny/`. Python: Debian's python3-torch 1.13 only; "
             + ("the model ships as two ONNX graphs split at the hook (`below.onnx`, `above.onnx`, "
                if len(saes) == 1 else
                f"the model ships as {len(saes) + 1} ONNX graphs split at its {len(saes)} hooks (`below.onnx`, "
                + ", ".join(f"`{g}`" for g in mo["onnx"].get("middle", [])) + ", `above.onnx`, ")
             + "per-layer KV cache; PACK_FORMAT.md), and the parity check runs "
             "`models/recipes/text/check_parity.mjs` with onnxruntime-node.")
    L.append("")
    L.append("**Data** (Debian packages, one document per fortune / chapter / entry, deduplicated, "
             "split train/validation by document, 5 % validation):")
    L.append("")
    L.append("| source | package | licence | documents | characters | validation documents |")
    L.append("|---|---|---|---|---|---|")
    lic = {"fortunes": ("fortunes, fortunes-min", "BSD (fortune-mod)"),
           "bible": ("bible-kjv-text", "public domain (KJV, 1611)"),
           "dictionary": ("dict-gcide", "GPL-2.0-or-later (GCIDE; Webster's 1913 is public domain)"),
           "jargon": ("jargon-text", "public domain (Jargon File 4.4.7)")}
    for name, s in sorted(corpus.items()):
        pkg, li = lic.get(name, ("?", "?"))
        L.append(f"| {name} | {pkg} | {li} | {s['documents']} | {s['characters']:,} | {s['val_documents']} |")
    L.append("")
    L.append("Categories kept as metadata: the fortune file (computers, love, bible … 40 of them), "
             "Old/New Testament and book for the Bible, part of speech for dictionary and Jargon File "
             "entries. The dictionary is a seeded 4 MB sample of GCIDE's entries. "
             f"Licence of the pack: {man['license']}")
    L.append("")
    L.append(f"**Model**: {lm['parameters']/1e6:.2f} M parameters, {mo['n_layers']} layers, d_model "
             f"{mo['d_model']}, {mo['n_heads']} heads, context {mo['context']}, byte-level BPE vocabulary "
             f"{mo['vocab_size']} (trained by `bpe.py`, saved as a Hugging Face `tokenizer.json`), learned "
             f"positions, tied embeddings, pre-LN. Trained on {lm['tokens_seen']/1e6:.1f} M tokens in "
             f"{lm['train_minutes']} min on one niced CPU thread (2-core machine shared with other jobs). "
             + (f"SAE: TopK (k={sae['k']}), {sae['d_sae']} features on `{sae['hook']}`, AuxK loss, fp16 weights; "
                if len(saes) == 1 else
                f"SAEs: TopK (k={sae['k']}), {sae['d_sae']} features each, on "
                + ", ".join(f"`{x['hook']}` (`{sae_ids.get(x['hook'], '?')}`)" for x in saes)
                + ", AuxK loss, fp16 weights; ")
             + f"{t.get('sae', 0)/60:.1f} min.")
    L.append("")
    if lm.get("from_pack"):
        L.append(f"The SAEs were added to the shipped pack by `models/recipes/text/add_hooks.py --hooks "
                 f"{','.join(x['hook'].split('.')[1] for x in saes)}`: the LM was read back from its float32 "
                 "graphs (no retraining; the figures below are those of the same weights), every hook got an "
                 "SAE from the recipe's SAE stage and the graphs were exported again, split at each hook.")
        L.append("")
    for ch in lm.get("schedule_changes") or []:
        L.append(f"The shipped LM's run was resumed at step {ch['at_step']} with its length cut from "
                 f"{ch['from_steps']} to {ch['to_steps']} steps (a new cosine from there) because the shared CPU "
                 f"ran at ~700 tokens/s instead of the ~2,000 measured alone; the recipe's default is now "
                 f"{ch['to_steps']} steps from the start, so a rerun gives a slightly different model.")
        L.append("")
    L.append(f"**Figures** (validation split, {lm['val_tokens']:,} tokens; CE-loss figures on its first 192 "
             "windows of 256 tokens; SAE figures with the shipped fp16 weights):")
    L.append("")
    L.append("| figure | value |")
    L.append("|---|---|")
    L.append(f"| LM validation loss (nats/token) | {lm['val_loss']:.3f} |")
    L.append(f"| bigram baseline, same tokens (interpolated, λ={lm['bigram_lambda']} tuned on validation) | {lm['bigram_loss']:.3f} |")
    L.append(f"| unigram baseline (add-one) | {lm['unigram_loss']:.3f} |")
    for x in saes:
        name = "SAE" if len(saes) == 1 else f"SAE `{sae_ids.get(x['hook'], x['hook'])}`"
        L.append(f"| {name} fraction of variance explained | {x['fve']:.3f} |")
        L.append(f"| {name} mean L0 | {x['mean_l0']:.1f} |")
        L.append(f"| {name} dead features (never fire on validation) | {x['dead_features']} ({100*x['dead_fraction']:.1f} %) |")
        L.append(f"| {name} CE loss: clean / SAE spliced in / zero-ablated | {x['ce_loss_clean']:.3f} / {x['ce_loss_sae']:.3f} / {x['ce_loss_zero_ablation']:.3f} |")
        L.append(f"| {name} CE loss recovered | {100*x['ce_loss_recovered']:.1f} % |")
    L.append(f"| ONNX parity (onnxruntime-node vs torch, ≤ 1e-3, with/without cache, steering ≠ 0) | {'passed' if m.get('parity_checked') else 'not run'} |")
    L.append("")
    L.append(f"**Steering** ({st['method']}; {len(st['prompts'])} prompts × {st['samples_per_prompt']} samples × "
             f"{st['tokens_per_sample']} tokens). A feature's *top tokens* are the 10 tokens most "
             "over-represented (lift over unigram) right after its strongest 0.2 % activations on validation, "
             "i.e. what it predicts; the table gives how often generated tokens are among them, before → after "
             "adding the feature's decoder direction at 4 × its max activation.")
    L.append("")
    L.append("| feature | strongest source | top tokens | frequency before → after |")
    L.append("|---|---|---|---|")
    for f in st["features"]:
        toks = ", ".join("`" + t.replace("\n", "\\n").replace("|", "\\|").replace("`", "'") + "`" for t in f["top_next_tokens"][:6])
        L.append(f"| {f['feature']} | {f['strongest_source']} | {toks} | "
                 f"{f['freq_top_next_before']:.3f} → {f['freq_top_next_after']:.3f} |")
    L.append("")
    L.append(f"Mean over these features: {st['mean_freq_top_next_before']:.3f} → {st['mean_freq_top_next_after']:.3f} "
             f"({st['features_raised']} of {len(st['features'])} raised). All numbers: `{rel}/metrics.json`.")
    L.append("")
    margin = lm["bigram_loss"] - lm["val_loss"]
    L.append(f"Reading: the LM beats the bigram baseline by {margin:.2f} nats/token ({100*margin/lm['bigram_loss']:.0f} %) "
             f"and the unigram by {lm['unigram_loss']-lm['val_loss']:.2f}; it is small and undertrained "
             f"({lm['tokens_seen']/1e6:.1f} M tokens, under one epoch), so its samples have the look of each "
             "source (verse numbers, dictionary markup, attributions) more than sense. The SAE reconstructs the "
             "hook well; steering raises its features' top tokens for most of them, strongly for layout/markup "
             "features (dictionary) and weakly for content ones. A GPU run (`--device cuda` with a larger "
             "`--d-model`/`--lm-steps`) is the way to a better model.")
    L.append("")
    return "\n".join(L)


def main():
    pack = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "models", "text-fortunes")
    readme.write_section(render(pack), heading="## Text pack", readme=README)


if __name__ == "__main__":
    main()
