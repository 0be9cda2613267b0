#!/usr/bin/env python3
"""Score any checkpoint of train_big.py against an interpolated bigram trained on disjoint
documents, on the expanded validation split and on the shipped corpus's validation split.

  /usr/bin/python3 models/recipes/text/eval_big.py --work <folder> [--ckpt <file>] [--max-windows N]

--ckpt defaults to the newest of ckpt.pt and ckpt-<step>.pt in the work folder. The bigram
(figures.baselines: add-one unigram, bigram interpolated with it, lambda tuned on the scored
tokens, which favours the baseline) is counted on the training stream, whose documents are
disjoint from both validation splits; on the old split it is also counted on the shipped
corpus's training documents alone, as the shipped pack's figure was. The figure to meet:
the model's CE at least 15% below the bigram's. One JSON line is printed and appended to
<work>/evals.jsonl.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))  # models/recipes: the shared toolkit, common/

TARGET = 0.15  # CE at least this fraction below the bigram's


def newest_checkpoint(work: str) -> str:
    files = glob.glob(os.path.join(work, "ckpt.pt")) + glob.glob(os.path.join(work, "ckpt-*.pt"))
    if not files:
        raise SystemExit(f"no checkpoint in {work}")
    return max(files, key=os.path.getmtime)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", required=True)
    p.add_argument("--ckpt")
    p.add_argument("--max-windows", type=int, default=192, help="windows per split, spread over it")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--samples", type=int, default=5, help="samples to print (figures.PROMPTS, KV cache)")
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--sample-tokens", type=int, default=48)
    p.add_argument("--tokenizer", help="default: the shipped pack's, which train_big.py uses")
    a = p.parse_args(argv)
    import numpy as np
    import torch
    from figures import baselines
    from lm_train import eval_loss
    from model import LMConfig, TinyLM
    from train_big import spread_windows
    torch.set_num_threads(a.threads)
    path = a.ckpt or newest_checkpoint(a.work)
    ck = torch.load(path, map_location="cpu")
    cfg = LMConfig(**ck["config"])
    model = TinyLM(cfg)
    model.load_state_dict(ck["model"])
    model.eval()
    streams = {k: np.load(os.path.join(a.work, f"tokens_{k}.npy"), mmap_mode="r")
               for k in ("train", "train_old", "val", "val_old")}
    out = {"checkpoint": os.path.basename(path), "step": ck.get("step"), "tokens_seen": ck.get("tokens_seen"),
           "train_hours": round(ck.get("elapsed", 0) / 3600, 2), "parameters": model.num_params(),
           "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "target_reduction": TARGET}
    t = time.time()
    for split, bigram_from in (("val", ("train",)), ("val_old", ("train", "train_old"))):
        w = spread_windows(streams[split], cfg.context, a.max_windows)
        prev, nxt = w[:, :-1].reshape(-1).numpy(), w[:, 1:].reshape(-1).numpy()
        row = {"tokens": int(nxt.size), "ce": eval_loss(model, w, "cpu")}
        for tr in bigram_from:
            b = baselines(np.asarray(streams[tr]), prev, nxt, cfg.vocab_size)
            key = "bigram" if tr == "train" else "bigram_old_train"
            row[key] = b["bigram_loss"]
            row[key + "_lambda"] = b["bigram_lambda"]
            row["reduction" if tr == "train" else "reduction_vs_old_train"] = 1 - row["ce"] / b["bigram_loss"]
            if tr == "train":
                row["unigram"] = b["unigram_loss"]
        row["meets_target"] = all(row[k] >= TARGET for k in row if k.startswith("reduction"))
        out[split] = row
    out["seconds"] = round(time.time() - t, 1)
    if a.samples:
        from bpe import BOS_ID, EOS_ID, ByteBPE
        from figures import PROMPTS, sample
        from train_big import SHIPPED_TOKENIZER
        tok = ByteBPE.load(a.tokenizer or SHIPPED_TOKENIZER)
        out["samples"] = {"temperature": a.temperature, "tokens": a.sample_tokens, "texts": []}
        for i, prompt in enumerate((PROMPTS * a.samples)[:a.samples]):
            ids = [BOS_ID] + tok.encode(prompt)
            gen = sample(model, ids, a.sample_tokens, torch.zeros(cfg.d_model), torch.Generator().manual_seed(i),
                         temperature=a.temperature)
            gen = gen[:gen.index(EOS_ID)] if EOS_ID in gen else gen  # the document ended
            out["samples"]["texts"].append(prompt + tok.decode(gen))
    line = json.dumps(out, ensure_ascii=False)
    print(line)
    for text in out.get("samples", {}).get("texts", []):
        print("---\n" + text)
    with open(os.path.join(a.work, "evals.jsonl"), "a") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    main()
