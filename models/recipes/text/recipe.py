#!/usr/bin/env python3
"""Orrery text pack recipe: corpus → tokenizer → LM → SAE → figures → ONNX → pack.

  /usr/bin/python3 models/recipes/text/recipe.py                 # the default pack, models/text-fortunes/
  /usr/bin/python3 models/recipes/text/recipe.py --smoke         # all stages on a tiny slice, temp dir
  /usr/bin/python3 models/recipes/text/recipe.py --fixture       # tests/fixtures/packs/text-tiny/
  … --device cuda  (a GPU can train a larger model: --d-model 384 --lm-steps 20000 …)
  … --stages lm,sae  (run some stages; each resumes from the work dir)
  … --force figures  (re-run a stage that is up to date)

Stages run through models/recipes/common/stages.py: each is skipped when its settings, its
inputs' and its outputs' hashes are those of its last finished run; the LM stage resumes from
its checkpoint (lm_ckpt.pt); the pack's metrics.json records provenance (Debian package
versions, source file hashes); the last stage builds features.sqlite.br with the app's index build.

Everything is seeded (--seed). Intermediate files live in --work (default
models/recipes/text/work/, git-ignored); the pack folder gets only what the manifest names.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))  # models/recipes: the shared toolkit, common/

STAGES = ["corpus", "tokenizer", "lm", "sae", "figures", "export", "pack", "index"]
PACKAGES = ["fortune-mod", "fortunes", "fortunes-min", "bible-kjv", "bible-kjv-text", "dict-gcide", "jargon-text"]

PRESETS = {
    # one niced CPU thread on a shared 2-core machine: ~70 min of LM training (3.3M tokens),
    # ~10 min for the SAE (0.5M activations, one pass)
    "full": dict(vocab=4096, d_model=192, n_layers=4, n_heads=4, context=256, lm_steps=800, batch=16,
                 lr=2e-3, gcide_chars=4_000_000, d_sae=4096, k=32, sae_tokens=500_000, sae_passes=1, sae_batch=1024,
                 sae_lr=1e-3, n_examples=3000, figures_windows=10_000, steer_features=6, steer_prompts=8, steer_samples=3, gen_tokens=32,
                 parity_batch=2, parity_seq=32, out=os.path.join(REPO, "models", "text-fortunes"),
                 pack_id="orrery-text-fortunes", name="Fortunes & Scripture (text)"),
    "smoke": dict(vocab=320, d_model=32, n_layers=2, n_heads=2, context=64, lm_steps=6, batch=4,
                  lr=3e-3, gcide_chars=200_000, d_sae=64, k=4, sae_tokens=4096, sae_passes=2, sae_batch=256,
                  sae_lr=1e-3, n_examples=40, figures_windows=10_000, steer_features=2, steer_prompts=2,
                  steer_samples=1, gen_tokens=8, parity_batch=2, parity_seq=8, out=None, pack_id="orrery-text-smoke", name="Text smoke test"),
    "fixture": dict(vocab=300, d_model=16, n_layers=2, n_heads=2, context=64, lm_steps=40, batch=8,
                    lr=3e-3, gcide_chars=200_000, d_sae=64, k=4, sae_tokens=8192, sae_passes=2, sae_batch=256,
                    sae_lr=1e-3, n_examples=60, figures_windows=10_000, steer_features=2, steer_prompts=2,
                    steer_samples=1, gen_tokens=8, parity_batch=2, parity_seq=8, out=os.path.join(REPO, "tests", "fixtures", "packs", "text-tiny"),
                    pack_id="orrery-text-tiny", name="Tiny text fixture"),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--smoke", action="store_true", help="tiny slice, a few steps, all stages, temp dir")
    mode.add_argument("--fixture", action="store_true", help="write the tiny test pack")
    p.add_argument("--stages", default=",".join(STAGES))
    p.add_argument("--force", default="", help="re-run these stages even when up to date")
    p.add_argument("--out", help="pack folder")
    p.add_argument("--work", help="work folder for intermediate files")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch (cores are shared)")
    p.add_argument("--seed", type=int, default=1913)
    p.add_argument("--keep", action="store_true", help="--smoke: keep the temp dir")
    p.add_argument("--pack-id", help="the manifest's id (default orrery-text-fortunes)")
    p.add_argument("--name", help="the manifest's name")
    p.add_argument("--hooks", help="layers whose residual gets an SAE, e.g. 1,4 (default n_layers // 2); "
                   "the graphs are split at each (PACK_FORMAT.md, text-lm)")
    p.add_argument("--fp16", type=int, choices=(0, 1), default=None,
                   help="1: ONNX weights stored as fp16 (float32 I/O); default 0")
    for k, v in PRESETS["full"].items():
        if isinstance(v, (int, float)) and k not in ("out",):
            p.add_argument("--" + k.replace("_", "-"), type=type(v), default=None)
    return p.parse_args(argv)


class Ctx:
    """Settings and paths shared by the stages."""

    def __init__(self, args):
        self.mode = "smoke" if args.smoke else "fixture" if args.fixture else "full"
        self.s = dict(PRESETS[self.mode])
        for k in self.s:
            v = getattr(args, k, None)
            if v is not None and k != "out":
                self.s[k] = v
        self.s["hooks"] = sorted({int(x) for x in args.hooks.split(",")}) if args.hooks else [self.s["n_layers"] // 2]
        self.s["fp16"] = args.fp16 or 0
        if not all(0 <= h < self.s["n_layers"] for h in self.s["hooks"]):
            raise SystemExit(f"--hooks {args.hooks}: each must be a layer 0 … {self.s['n_layers'] - 1}")
        self.seed, self.device = args.seed, args.device
        self.tmp = None
        self.provenance = lambda: None  # main() sets the stage runner's provenance
        if self.mode == "smoke" and not (args.out and args.work):
            self.tmp = tempfile.mkdtemp(prefix="orrery-text-smoke-")
        self.out = args.out or self.s["out"] or os.path.join(self.tmp, "pack")
        self.work = args.work or (os.path.join(self.tmp, "work") if self.tmp else
                                  os.path.join(HERE, "work" if self.mode == "full" else "work-" + self.mode))
        os.makedirs(self.out, exist_ok=True)
        os.makedirs(self.work, exist_ok=True)
        self.t0 = time.time()
        self.log_path = os.path.join(self.work, "recipe.log")

    def log(self, msg: str):
        line = f"[{time.strftime('%H:%M:%S')} +{time.time()-self.t0:7.1f}s] {msg}"
        print(line, flush=True)
        with open(self.log_path, "a") as f:
            f.write(line + "\n")

    def w(self, *p):
        return os.path.join(self.work, *p)

    def o(self, *p):
        return os.path.join(self.out, *p)

    def lm_config(self):
        from model import LMConfig
        return LMConfig(vocab_size=self.s["vocab"], d_model=self.s["d_model"], n_layers=self.s["n_layers"],
                        n_heads=self.s["n_heads"], context=self.s["context"], hook_layer=self.s["hooks"][0])

    def hooks(self) -> list[int]:
        """The layers with an SAE, ascending (the graphs are split at each)."""
        return list(self.s["hooks"])

    def timing(self, stage: str, seconds: float):
        path = self.w("timings.json")
        t = json.load(open(path)) if os.path.exists(path) else {}
        t[stage] = round(seconds, 1)
        json.dump(t, open(path, "w"), indent=1)


def stage_corpus(c: Ctx):
    import corpus
    docs = corpus.build_corpus(c.seed, gcide_chars=c.s["gcide_chars"], smoke=c.mode != "full")
    with open(c.w("corpus.jsonl"), "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"text": d.text, "meta": d.meta, "split": d.split}, ensure_ascii=False) + "\n")
    stats = corpus.corpus_stats(docs)
    json.dump(stats, open(c.w("corpus_stats.json"), "w"), indent=1)
    c.log(f"corpus: {len(docs)} documents " + json.dumps(stats))


def load_docs(c: Ctx):
    from corpus import Document
    with open(c.w("corpus.jsonl"), encoding="utf-8") as f:
        return [Document(j["text"], j["meta"], j["split"]) for j in map(json.loads, f)]


def stage_tokenizer(c: Ctx):
    import numpy as np
    import bpe
    from lm_train import tokenize_docs
    docs = load_docs(c)
    train = [d.text for d in docs if d.split == "train"]
    merges = bpe.train_bpe(train, c.s["vocab"])
    tok = bpe.ByteBPE(merges)
    if tok.vocab_size != c.s["vocab"]:
        raise RuntimeError(f"tokenizer: vocab {tok.vocab_size} != {c.s['vocab']} (corpus too small?)")
    tok.save(c.o("tokenizer.json"))
    val_texts = [d.text[:300] for d in docs if d.split == "val"][:8]
    check = [{"text": s, "ids": tok.encode(s)} for s in bpe.CHECK_STRINGS + val_texts]
    for item in check:
        if tok.decode(item["ids"]) != item["text"]:
            raise RuntimeError(f"tokenizer: round trip failed for {item['text']!r}")
    json.dump({"tokenizer": "tokenizer.json", "cases": check}, open(c.o("tokenizer_check.json"), "w"),
              ensure_ascii=False, indent=0)
    tr = tokenize_docs(tok, [d for d in docs if d.split == "train"])
    va = tokenize_docs(tok, [d for d in docs if d.split == "val"])
    np.save(c.w("tokens_train.npy"), tr)
    np.save(c.w("tokens_val.npy"), va)
    chars = sum(len(d.text) for d in docs if d.split == "train")
    c.log(f"tokenizer: vocab {tok.vocab_size}, train {len(tr)} tokens ({chars/len(tr):.2f} chars/token), "
          f"val {len(va)} tokens")


def stage_lm(c: Ctx):
    import numpy as np
    import torch
    from lm_train import train_lm
    tr, va = np.load(c.w("tokens_train.npy")), np.load(c.w("tokens_val.npy"))
    cfg = c.lm_config()
    t = time.time()
    model = train_lm(cfg, tr, va, c.work, steps=c.s["lm_steps"], batch=c.s["batch"], lr=c.s["lr"],
                     seed=c.seed, device=c.device, log=c.log, eval_every=max(1, min(250, c.s["lm_steps"])))
    c.timing("lm", time.time() - t)
    c.log(f"lm: {model.num_params()} parameters, trained in {(time.time()-t)/60:.1f} min")


def stage_sae(c: Ctx):
    import sae
    t = time.time()
    sae.stage(c)
    c.timing("sae", time.time() - t)


def stage_figures(c: Ctx):
    import figures
    t = time.time()
    figures.stage(c)
    c.timing("figures", time.time() - t)


def stage_export(c: Ctx):
    import export
    export.stage(c)


def stage_pack(c: Ctx):
    import pack
    pack.stage(c)


def stage_index(c: Ctx):
    from common import index
    index.build(c.out, c.log)


def sources() -> dict[str, str]:
    """The Debian data files the corpus reads (corpus.py), for the provenance in metrics.json."""
    import corpus
    fortunes = {f"fortunes/{n}": os.path.join(corpus.FORTUNE_DIR, n) for n in sorted(corpus.FORTUNES_FILES)
                if os.path.isfile(os.path.join(corpus.FORTUNE_DIR, n))}
    return {**fortunes, "bible": "/usr/lib/bible.data", "gcide_index": corpus.GCIDE_INDEX,
            "gcide_dict": corpus.GCIDE_DICT, "jargon": corpus.JARGON_TXT}


def stage_list(c: Ctx) -> list:
    """The stages with what each reads and writes (the runner's keys) and the settings it uses."""
    from common.index import INDEX_FILE
    from common.stages import Stage
    from sae import sae_dir
    s, here = c.s, lambda *f: [os.path.join(HERE, x) for x in f]
    sds = [sae_dir(c, h) for h in c.hooks()]
    corpus_out = [c.w("corpus.jsonl"), c.w("corpus_stats.json")]
    tokens = [c.w("tokens_train.npy"), c.w("tokens_val.npy")]
    lm_keys = ("vocab", "d_model", "n_layers", "n_heads", "context", "lm_steps", "batch", "lr")
    sae_files = [os.path.join(sd, f) for sd in sds for f in ("cfg.json", "sae_weights.safetensors")]
    from export import graphs_of
    g = graphs_of(c.hooks())
    onnx = [c.o(f) for f in [g["below"], *g.get("middle", []), g["above"]]]
    meta = [c.o("manifest.json"), c.o("metrics.json")]
    spec = [
        ("corpus", [p for p in sources().values() if os.path.exists(p)] + here("corpus.py"), corpus_out,
         ("gcide_chars",)),
        ("tokenizer", corpus_out[:1] + here("bpe.py"), [c.o("tokenizer.json"), c.o("tokenizer_check.json")] + tokens,
         ("vocab",)),
        ("lm", tokens + here("model.py", "lm_train.py"), [c.w("lm.pt")], lm_keys),
        ("sae", [c.w("lm.pt"), tokens[0]] + here("sae.py"), sae_files,
         ("d_sae", "k", "sae_tokens", "sae_passes", "sae_batch", "sae_lr", "pack_id", "hooks")),
        ("figures", [c.w("lm.pt"), *tokens, *corpus_out[:1], *sae_files] + here("figures.py"),
         [c.w("figures.json")] + [os.path.join(sd, "sparsity.safetensors") for sd in sds],
         ("figures_windows", "steer_features", "steer_prompts", "steer_samples", "gen_tokens", "hooks")),
        ("export", [c.w("lm.pt"), tokens[1]] + here("export.py", "model.py", "check_parity.mjs"),
         onnx + [c.w("parity_result.json")], ("parity_batch", "parity_seq", "hooks", "fp16")),
        ("pack", [*corpus_out, c.w("figures.json"), c.w("parity_result.json"), c.o("tokenizer.json"), *onnx,
                  *sae_files] + here("pack.py"), [c.o("examples.jsonl")] + meta, ("n_examples", "pack_id", "name", "hooks")),
        ("index", [c.o("metrics.json"), c.o("examples.jsonl")], [c.o(INDEX_FILE), c.o("manifest.json")], ()),
    ]
    return [Stage(name, lambda ctx, n=name: globals()["stage_" + n](c), inputs=ins, outputs=outs,
                  params={"mode": c.mode, "seed": c.seed, **{k: s[k] for k in keys}})
            for name, ins, outs, keys in spec]


def main(argv=None):
    args = parse_args(argv)
    c = Ctx(args)
    import torch
    from common.stages import StageRunner
    torch.set_num_threads(args.threads)
    c.log(f"mode {c.mode}, seed {c.seed}, device {c.device}, out {c.out}, work {c.work}")
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    if c.mode == "fixture":  # a test fixture ships no index: the tests build theirs from it
        stages = [s for s in stages if s != "index"]
    runner = StageRunner(c.work, [s for s in stage_list(c) if c.mode != "fixture" or s.name != "index"],
                         log=c.log, root=REPO, out=c.out)
    c.provenance = lambda: runner.provenance(sources(), PACKAGES)
    runner.run(only=stages, force=[s for s in args.force.split(",") if s])
    c.log(f"stages run: {', '.join(runner.ran) or 'none'}; up to date: {', '.join(runner.skipped) or 'none'}")
    if c.mode == "smoke" and c.tmp:
        if args.keep:
            c.log(f"smoke: pack in {c.out}")
        else:
            shutil.rmtree(c.tmp)
            print(f"smoke: all stages passed ({time.time()-c.t0:.0f}s)")
    return c


if __name__ == "__main__":
    main()
