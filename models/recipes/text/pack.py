"""Assemble the pack: examples.jsonl, manifest.json and metrics.json (PACK_FORMAT.md)."""
from __future__ import annotations

import json
import os
import random
import re

LICENSE = ("Weights and SAE: GPL-2.0-or-later (trained in part on GCIDE text). Data: King James Bible "
           "(public domain; bible-kjv-text), Jargon File 4.4.7 (public domain; jargon-text), fortune-mod "
           "cookie files (BSD; fortunes, fortunes-min), GNU Collaborative International Dictionary of "
           "English incl. Webster's 1913 (GPL-2.0-or-later; dict-gcide).")


def snippets(doc, max_chars: int = 360) -> list[str]:
    """Short pieces of one document, cut at paragraph or line boundaries."""
    text = doc.text
    if doc.meta["source"] == "bible":  # drop the "Book N" heading; group verses
        text = text.split("\n\n", 1)[-1]
    units = [u for u in re.split(r"\n\n+" if doc.meta["source"] != "bible" else r"\n", text) if u.strip()]
    out, cur = [], ""
    for u in units:
        if cur and len(cur) + len(u) + 1 > max_chars:
            out.append(cur)
            cur = ""
        cur = (cur + ("\n" if doc.meta["source"] == "bible" else "\n\n") + u) if cur else u
    if cur:
        out.append(cur)
    return [s[:max_chars * 2] for s in out]


def build_examples(c) -> list[dict]:
    from recipe import load_docs
    docs = [d for d in load_docs(c) if d.split == "val"]
    rng = random.Random(c.seed + 41)
    by_source: dict[str, list[dict]] = {}
    for d in docs:
        meta = {k: v for k, v in d.meta.items() if k in ("source", "category", "book", "chapter")}
        for s in snippets(d):
            by_source.setdefault(d.meta["source"], []).append({"text": s, "meta": meta, "split": "val"})
    n = c.s["n_examples"]
    names = sorted(by_source)
    for pool in by_source.values():
        rng.shuffle(pool)
    picked: list[dict] = []
    quota = n // len(names)
    for name in names:  # balanced by source, the rest filled from whatever is left
        picked += by_source[name][:quota]
    rest = [e for name in names for e in by_source[name][quota:]]
    rng.shuffle(rest)
    picked += rest[: max(0, n - len(picked))]
    rng.shuffle(picked)
    return picked


OLD_SOURCES = {"fortunes", "bible", "dictionary", "jargon"}  # corpus.py's; corpus_plus.py adds more


def stage(c):
    from export import graphs_of, hook_name
    from sae import sae_dir
    cfg = c.lm_config()
    examples = build_examples(c)
    with open(c.o("examples.jsonl"), "w", encoding="utf-8") as f:
        for e in examples:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    fig = json.load(open(c.w("figures.json")))
    stats = json.load(open(c.w("corpus_stats.json")))
    timings = json.load(open(c.w("timings.json"))) if os.path.exists(c.w("timings.json")) else {}
    hooks = c.hooks()
    size = f"{c.s['d_sae'] // 1024}k" if c.s["d_sae"] >= 1024 else str(c.s["d_sae"])
    saes = [{"id": f"res{h}-{size}", "hook": hook_name(h),
             "dir": os.path.relpath(sae_dir(c, h), c.out).replace(os.sep, "/")} for h in hooks]
    extra = sorted(set(stats) - OLD_SOURCES)  # the expanded corpus's sources (models/recipes/gpu)
    manifest = {
        "format": 1,
        "id": c.s["pack_id"],
        "name": c.s["name"],
        "kind": "text-lm",
        "version": "1.0.0",
        "license": LICENSE + "".join(f" {stats[s]['license']}." for s in extra if stats[s].get("license")),
        "source": (f"A {fig['lm']['parameters']/1e6:.1f}M-parameter decoder-only transformer "
                   f"({cfg.n_layers} layers, d_model {cfg.d_model}, {cfg.n_heads} heads, context {cfg.context}, "
                   f"byte-level BPE vocab {cfg.vocab_size}) trained from scratch by models/recipes/text "
                   f"(seed {c.seed}) on {sum(s['documents'] for s in stats.values())} deduplicated documents "
                   "from Debian packages: fortune cookies by category, the King James Bible, Webster's 1913 / "
                   "GCIDE dictionary entries and the Jargon File"
                   + (f", plus {', '.join(extra)} (corpus_plus.py)" if extra else "")
                   + (f". A TopK SAE (k={c.s['k']}, {c.s['d_sae']} features) reads {cfg.hook_name}." if len(hooks) == 1
                      else f". TopK SAEs (k={c.s['k']}, {c.s['d_sae']} features each) read "
                      + ", ".join(hook_name(h) for h in hooks) + ".")),
        "model": {
            "onnx": graphs_of(hooks),  # below / (middle…) / above, split at each hook (export.py)
            "tokenizer": "tokenizer.json",
            "hook": hook_name(hooks[0]),
            **({"hooks": [hook_name(h) for h in hooks]} if len(hooks) > 1 else {}),
            "d_model": cfg.d_model, "n_layers": cfg.n_layers, "n_heads": cfg.n_heads, "d_head": cfg.d_head,
            "context": cfg.context, "vocab_size": cfg.vocab_size,
            "bos_token_id": 1, "eos_token_id": 2,
        },
        "saes": saes,
        # Labels may name the source, category and book; the chapter number is a location,
        # not a property, so it only shows on the cards.
        "examples": {"texts": "examples.jsonl", "label_keys": ["source", "category", "book"]},
    }
    json.dump(manifest, open(c.o("manifest.json"), "w"), indent=2, ensure_ascii=False)
    sizes = {}
    for root, _, files in os.walk(c.out):
        for fn in files:
            if ".building." in fn:
                continue  # what an interrupted index build left (the index stage redoes it)
            p = os.path.join(root, fn)
            sizes[os.path.relpath(p, c.out).replace(os.sep, "/")] = os.path.getsize(p)
    parity = json.load(open(c.w("parity_result.json"))) if os.path.exists(c.w("parity_result.json")) else {}
    metrics = {
        "seed": c.seed, "mode": c.mode, "corpus": stats, "timings_seconds": timings,
        "parity_checked": parity.get("parity_checked", False),
        "weights_fp16": parity.get("fp16", False),
        **({"fp16_vs_fp32_max_logit_diff": parity["fp16_vs_fp32_max_logit_diff"]}
           if "fp16_vs_fp32_max_logit_diff" in parity else {}),
        "lm": fig["lm"], "sae": fig["sae"], "saes": fig.get("saes", [fig["sae"]]), "steering": fig["steering"],
        "files_bytes": sizes, "total_bytes": sum(sizes.values()),
        "provenance": c.provenance(),
    }
    json.dump(metrics, open(c.o("metrics.json"), "w"), indent=1, ensure_ascii=False)
    c.log(f"pack: {c.out} ({sum(sizes.values())/1e6:.1f} MB, {len(examples)} examples)")
