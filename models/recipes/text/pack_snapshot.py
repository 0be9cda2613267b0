#!/usr/bin/env python3
"""A text pack from one snapshot of train_big.py's long run (ckpt-<step>.pt), while it trains.

  /usr/bin/python3 models/recipes/text/pack_snapshot.py --snapshot <train work>/ckpt-<step>.pt \
      --work <pack work> --out <pack folder> [--pack-id ID --name NAME] [recipe.py flags …]

train_big.py writes lm.pt only when its run stops; its snapshots hold the model alone. This
writes the recipe's lm.pt from a snapshot into a separate work folder (the running training's
folder is only read), links the expanded corpus and its token streams from the snapshot's
folder, copies the shipped tokenizer (the one train_big.py trains with) into the pack folder,
then runs recipe.py's stages sae, figures, export, pack and index with the snapshot's shape,
by default with SAEs at an early and a late residual (--hooks 1,4 for 6 layers) and fp16 ONNX
weights (--fp16 1), the text pack's 40 MB budget. Other flags go to recipe.py as they are (e.g.
--hooks 3 --fp16 0, --sae-tokens, --figures-windows, --smoke).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))  # models/recipes: the shared toolkit, common/

LINKED = ("corpus.jsonl", "corpus_stats.json", "tokens_train.npy", "tokens_val.npy")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_check.json")
PACK_STAGES = "sae,figures,export,pack,index"


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_lm(snapshot: str, work: str) -> dict:
    """<work>/lm.pt in lm_train.load_lm's format from a train_big.py snapshot; returns its config.
    Skipped when lm.pt already came from this snapshot (same sha256), so later stages stay up to date."""
    import torch
    os.makedirs(work, exist_ok=True)
    digest = sha256(snapshot)
    lm_path = os.path.join(work, "lm.pt")
    if os.path.exists(lm_path):
        old = torch.load(lm_path, map_location="cpu")
        if old.get("snapshot", {}).get("sha256") == digest:
            return old["config"]
    ck = torch.load(snapshot, map_location="cpu")
    if "model" not in ck or "config" not in ck:
        raise SystemExit(f"{snapshot} is not a train_big.py snapshot (no model/config)")
    lm = {"config": ck["config"], "model": {k: v.float() for k, v in ck["model"].items()},
          "history": ck.get("history", []), "train_seconds": ck.get("elapsed", 0.0),
          "tokens_seen": ck.get("tokens_seen"), "steps": ck.get("step"), "schedule_changes": [],
          "snapshot": {"file": os.path.basename(snapshot), "sha256": digest, "step": ck.get("step")}}
    torch.save(lm, lm_path + ".tmp")
    os.replace(lm_path + ".tmp", lm_path)
    return ck["config"]


def link_inputs(train_work: str, work: str) -> None:
    """The expanded corpus and token streams, linked (not copied) from the training folder."""
    for name in LINKED:
        src, dst = os.path.join(train_work, name), os.path.join(work, name)
        if not os.path.exists(src):
            raise SystemExit(f"{src} is missing: is {train_work} a train_big.py work folder?")
        if os.path.islink(dst) and os.path.realpath(dst) == os.path.realpath(src):
            continue
        if os.path.lexists(dst):
            os.remove(dst)
        os.symlink(os.path.abspath(src), dst)


def recipe_args(a, config: dict, rest: list[str]) -> list[str]:
    shape = {"vocab": config["vocab_size"], "d_model": config["d_model"], "n_layers": config["n_layers"],
             "n_heads": config["n_heads"], "context": config["context"]}
    args = ["--work", a.work, "--out", a.out, "--stages", a.stages]
    args += [x for k, v in shape.items() for x in ("--" + k.replace("_", "-"), str(v))]
    if a.pack_id:
        args += ["--pack-id", a.pack_id]
    if a.name:
        args += ["--name", a.name]
    if not any(x == "--hooks" or x.startswith("--hooks=") for x in rest):
        args += ["--hooks", ",".join(map(str, default_hooks(config["n_layers"])))]
    if not any(x == "--fp16" or x.startswith("--fp16=") for x in rest):
        args += ["--fp16", "1"]
    return args + rest


def default_hooks(n_layers: int) -> list[int]:
    """An early and a late residual (1 and 4 of the larger LM's 6 layers), one hook for < 4 layers."""
    return [n_layers // 2] if n_layers < 4 else [n_layers // 4, n_layers - 2]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--snapshot", required=True, help="a train_big.py ckpt-<step>.pt (or ckpt.pt copied aside)")
    p.add_argument("--train-work", help="the folder with its corpus and token streams (default: the snapshot's)")
    p.add_argument("--work", required=True, help="this pack's work folder (lm.pt, SAE, figures)")
    p.add_argument("--out", required=True, help="the pack folder")
    p.add_argument("--pack-id", help="manifest id (default recipe.py's)")
    p.add_argument("--name", help="manifest name (default recipe.py's)")
    p.add_argument("--stages", default=PACK_STAGES)
    p.add_argument("--tokenizer-from", default=os.path.join(HERE, "..", "..", "text-fortunes"),
                   help="pack folder whose tokenizer train_big.py used (default the shipped pack)")
    a, rest = p.parse_known_args(argv)
    train_work = a.train_work or os.path.dirname(os.path.abspath(a.snapshot))
    config = write_lm(a.snapshot, a.work)
    link_inputs(train_work, a.work)
    os.makedirs(a.out, exist_ok=True)
    for name in TOKENIZER_FILES:
        src = os.path.join(a.tokenizer_from, name)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(a.out, name))
    tok = json.load(open(os.path.join(a.out, "tokenizer.json")))
    vocab = len(tok["model"]["vocab"]) if "model" in tok else None
    if vocab is not None and vocab != config["vocab_size"]:
        raise SystemExit(f"tokenizer vocab {vocab} != the snapshot's {config['vocab_size']}")
    import recipe
    return recipe.main(recipe_args(a, config, rest))


if __name__ == "__main__":
    main()
