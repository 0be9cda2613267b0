#!/usr/bin/env python3
"""SAEs at more layers for a shipped text pack, from the pack's own weights: no retraining of
the LM, so its figures and samples stay what they were.

  /usr/bin/python3 models/recipes/text/add_hooks.py --pack models/text-fortunes --hooks 1,2,3 \
      --work <work folder> --out <new pack folder> [recipe.py flags …]

Writes the recipe's lm.pt from the pack's graphs (reexport.load_from_onnx: float32 graphs, in the
order a step runs them) with the training record the pack's metrics.json keeps (tokens seen,
minutes, loss history), rebuilds the corpus with recipe.py's corpus stage (deterministic: the
same documents and split), tokenizes it with the pack's own tokenizer.json, then runs recipe.py's
stages sae, figures, export, pack and index with the new --hooks. Every hook gets an SAE (the old
hook's retrained with the recipe's seed and settings, as a full run would), the graphs are split
at each hook (below, middle…, above) with the same float32 weights (--fp16 1 stores them as
fp16, as the Reference Shelf's are, where the 40 MB budget needs it) and the index is rebuilt
with every SAE.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))  # models/recipes: the shared toolkit, common/

from pack_snapshot import TOKENIZER_FILES, recipe_args  # noqa: E402

STAGES = "sae,figures,export,pack,index"


def graph_paths(pack: str, manifest: dict) -> list[str]:
    g = manifest["model"]["onnx"]
    files = [g] if isinstance(g, str) else [g["below"], *g.get("middle", []), g["above"]]
    return [os.path.join(pack, f) for f in files]


def write_lm(pack: str, work: str) -> dict:
    """<work>/lm.pt (lm_train.load_lm's format) from the pack's graphs; returns the LM config."""
    import torch
    from model import LMConfig
    from reexport import load_from_onnx
    manifest = json.load(open(os.path.join(pack, "manifest.json")))
    m = manifest["model"]
    cfg = LMConfig(vocab_size=m["vocab_size"], d_model=m["d_model"], n_layers=m["n_layers"],
                   n_heads=m["n_heads"], context=m["context"], hook_layer=int(m["hook"].split(".")[1]))
    model = load_from_onnx(graph_paths(pack, manifest), cfg)
    lm = json.load(open(os.path.join(pack, "metrics.json")))["lm"]
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "lm.pt")
    torch.save({"config": cfg.to_dict(), "model": model.state_dict(), "history": lm.get("history", []),
                "train_seconds": lm.get("train_minutes", 0) * 60, "tokens_seen": lm.get("tokens_seen"),
                "schedule_changes": lm.get("schedule_changes", []),
                "from_pack": os.path.basename(os.path.abspath(pack))}, path + ".tmp")
    os.replace(path + ".tmp", path)
    timings = os.path.join(work, "timings.json")  # the LM's training time, as the pack recorded it
    if not os.path.exists(timings):
        json.dump(json.load(open(os.path.join(pack, "metrics.json"))).get("timings_seconds", {}), open(timings, "w"))
    return cfg.to_dict()


def write_tokens(pack: str, work: str) -> None:
    """tokens_train.npy / tokens_val.npy from the corpus, with the pack's tokenizer."""
    import numpy as np
    import bpe
    from lm_train import tokenize_docs
    from recipe import load_docs
    merges = [tuple(x) for x in json.load(open(os.path.join(pack, "tokenizer.json")))["model"]["merges"]]
    tok = bpe.ByteBPE(merges)

    class Work:  # what load_docs reads
        w = staticmethod(lambda *p: os.path.join(work, *p))
    docs = load_docs(Work)
    for split in ("train", "val"):
        np.save(os.path.join(work, f"tokens_{split}.npy"), tokenize_docs(tok, [d for d in docs if d.split == split]))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", required=True, help="the shipped text pack (float32 graphs)")
    p.add_argument("--hooks", required=True, help="layers with an SAE, e.g. 1,2,3")
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True, help="the new pack folder (not the shipped one)")
    p.add_argument("--stages", default=STAGES)
    a, rest = p.parse_known_args(argv)
    if os.path.abspath(a.out) == os.path.abspath(a.pack):
        raise SystemExit("--out must differ from --pack: the pack's graphs are read while the new ones are written")
    manifest = json.load(open(os.path.join(a.pack, "manifest.json")))
    a.pack_id, a.name = manifest["id"], manifest["name"]
    import recipe
    config = write_lm(a.pack, a.work)
    os.makedirs(a.out, exist_ok=True)
    for name in TOKENIZER_FILES:
        shutil.copy(os.path.join(a.pack, name), os.path.join(a.out, name))
    fp16 = [] if any(x == "--fp16" or x.startswith("--fp16=") for x in rest) else ["--fp16", "0"]
    shape = recipe_args(a, config, ["--hooks", a.hooks] + fp16 + rest)
    recipe.main([x if x != a.stages else "corpus" for x in shape])
    write_tokens(a.pack, a.work)
    return recipe.main(shape)


if __name__ == "__main__":
    main()
