#!/usr/bin/env python3
"""The larger text LM on the expanded corpus (corpus_plus.py): a long, resumable training run.

  nohup nice -n 19 /usr/bin/python3 models/recipes/text/train_big.py --work <folder> > <folder>/log 2>&1 &

Run the same command again to go on from the last checkpoint. The first run prepares the
work folder (corpus.jsonl, the token streams, corpus_stats.json with tokens per source and
licences); later runs reuse it. The model is models/recipes/text/model.py's TinyLM (the
pack's graph: same export, same KV cache) with the shipped pack's tokenizer, so the
validation split of the shipped corpus (tokens_val_old.npy) is scored with the same tokens.

Files in the work folder:
  ckpt.pt           the last checkpoint (model, optimiser, sampler, step; written atomically)
  ckpt-<step>.pt    a model-only snapshot every --snapshot-minutes (evaluate any with eval_big.py)
  metrics.jsonl     train CE (running mean) and validation CE on fixed windows of both splits
  PID               this process's id (pause with SIGSTOP, go on with SIGCONT)
  lm.pt             on --steps reached: the recipe's LM file (recipe.py stages sae.. read it)

On a GPU (--device cuda) it trains in bfloat16 autocast; models/recipes/gpu/ uses it so.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))  # models/recipes: the shared toolkit, common/

SHIPPED_TOKENIZER = os.path.join(REPO, "models", "text-fortunes", "tokenizer.json")

# ~9M parameters: 6 blocks of d_model 320 (5 heads of 64), vocab 4096, context 256
DEFAULTS = dict(d_model=320, n_layers=6, n_heads=5, context=256, batch=8, lr=1.5e-3, warmup=200,
                decay_from=1000, steps=10_000_000, schedule="invsqrt", ckpt_minutes=5.0, snapshot_minutes=20.0,
                eval_minutes=10.0, eval_windows=24, log_every=20, keep_snapshots=6, seed=1913)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", required=True, help="work folder (persistent; checkpoints and data)")
    p.add_argument("--tokenizer", default=SHIPPED_TOKENIZER)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--smoke", action="store_true", help="a small slice of each source (for tests)")
    p.add_argument("--max-minutes", type=float, default=None, help="stop (after a checkpoint) after this long")
    p.add_argument("--prepare-only", action="store_true")
    p.add_argument("--write-lm", action="store_true", help="write lm.pt when the run stops, also before --steps")
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    return p.parse_args(argv)


def log_to(work):
    path = os.path.join(work, "train.log")

    def log(msg):
        line = f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {msg}"
        print(line, flush=True)
        with open(path, "a") as f:
            f.write(line + "\n")
    return log


def prepare(work: str, tokenizer: str, seed: int, smoke: bool, log) -> None:
    """corpus.jsonl, tokens_{train,val,train_old,val_old}.npy, corpus_stats.json (once)."""
    import numpy as np
    import corpus_plus
    from bpe import ByteBPE
    from lm_train import tokenize_docs
    if os.path.exists(os.path.join(work, "corpus_stats.json")):
        return
    t = time.time()
    docs = corpus_plus.build(seed, smoke=smoke, log=log)
    tok = ByteBPE.load(tokenizer)
    with open(os.path.join(work, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"text": d.text, "meta": d.meta, "split": d.split}, ensure_ascii=False) + "\n")
    streams = {
        "train": [d for d in docs if d.split == "train"],
        "val": [d for d in docs if d.split == "val"],
        "train_old": [d for d in docs if d.split == "train" and d.meta.get("old")],
        "val_old": [d for d in docs if d.split == "val" and d.meta.get("old")],
    }
    tokens: dict[str, int] = {}
    for name in ("train", "val"):
        arrs = []
        for d in streams[name]:
            a = tokenize_docs(tok, [d])
            tokens[d.meta["source"]] = tokens.get(d.meta["source"], 0) + len(a)
            arrs.append(a)
        np.save(os.path.join(work, f"tokens_{name}.npy"), np.concatenate(arrs))
    for name in ("train_old", "val_old"):
        np.save(os.path.join(work, f"tokens_{name}.npy"), tokenize_docs(tok, streams[name]))
    stats = corpus_plus.stats(docs, tokens)  # per source, as recipe.py's pack stage reads it
    summary = {"total": {k: sum(v[k] for v in stats.values()) for k in ("documents", "characters", "tokens",
                                                                        "val_documents")},
               "streams": {k: int(len(np.load(os.path.join(work, f"tokens_{k}.npy"), mmap_mode="r")))
                           for k in streams},
               "tokenizer": {"file": os.path.basename(tokenizer), "vocab": tok.vocab_size},
               "packages": corpus_plus.PACKAGES}
    json.dump(summary, open(os.path.join(work, "corpus_summary.json"), "w"), indent=1)
    json.dump(stats, open(os.path.join(work, "corpus_stats.json"), "w"), indent=1)
    log(f"prepared in {time.time() - t:.0f}s: {summary}")


def spread_windows(stream, ctx: int, n: int):
    """n windows of ctx + 1 tokens spread evenly over the stream (every source of a stream
    ordered by source is sampled); all non-overlapping windows when the stream has no more."""
    import numpy as np
    import torch
    total = (len(stream) - 1) // ctx
    if n >= total:
        starts = [i * ctx for i in range(total)]
    else:
        starts = [int(s) for s in np.linspace(0, len(stream) - ctx - 1, n)]
    return torch.from_numpy(np.stack([np.asarray(stream[s:s + ctx + 1], dtype=np.int64) for s in starts]))


def lr_at(a, step: int) -> float:
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    if a.schedule == "cosine":  # over --steps, or over --max-minutes when that ends first
        p = min(1.0, (step - a.warmup) / max(1, a.steps - a.warmup))
        if a.max_minutes is not None:
            p = max(p, min(1.0, (time.time() - a.t_start) / (a.max_minutes * 60)))
        return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))
    return a.lr * min(1.0, math.sqrt(a.decay_from / max(step, 1)))  # invsqrt: open-ended


def model_config(a, vocab: int):
    from model import LMConfig
    return LMConfig(vocab_size=vocab, d_model=a.d_model, n_layers=a.n_layers, n_heads=a.n_heads,
                    context=a.context, hook_layer=a.n_layers // 2)


def save_atomic(obj, path):
    import torch
    torch.save(obj, path + ".tmp")
    os.replace(path + ".tmp", path)


def main(argv=None):
    a = parse_args(argv)
    os.makedirs(a.work, exist_ok=True)
    with open(os.path.join(a.work, "PID"), "w") as f:
        f.write(f"{os.getpid()}\n")
    log = log_to(a.work)
    import numpy as np
    import torch
    import torch.nn.functional as F
    from bpe import ByteBPE
    from lm_train import eval_loss, sample_batch
    from model import TinyLM
    torch.set_num_threads(a.threads)
    prepare(a.work, a.tokenizer, a.seed, a.smoke, log)
    if a.prepare_only:
        return
    vocab = ByteBPE.load(a.tokenizer).vocab_size
    cfg = model_config(a, vocab)
    train = np.load(os.path.join(a.work, "tokens_train.npy"), mmap_mode="r")
    vals = {k: spread_windows(np.load(os.path.join(a.work, f"tokens_{k}.npy")), cfg.context, a.eval_windows)
            for k in ("val", "val_old")}
    torch.manual_seed(a.seed)
    model = TinyLM(cfg).to(a.device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "pos" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "pos" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), **({"fused": True} if a.device == "cuda" else {}))
    gen = torch.Generator().manual_seed(a.seed + 1)
    ckpt_path = os.path.join(a.work, "ckpt.pt")
    step, tokens_seen, elapsed, history = 0, 0, 0.0, []
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=a.device)
        if ck["config"] != cfg.to_dict():
            raise SystemExit(f"{ckpt_path} holds another model ({ck['config']}); use another --work")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        step, tokens_seen, elapsed, history = ck["step"], ck["tokens_seen"], ck["elapsed"], ck["history"]
        log(f"resumed at step {step} ({tokens_seen} tokens, {elapsed / 3600:.2f} h of training)")
    else:
        log(f"new model: {model.num_params()} parameters {cfg.to_dict()}")
    log(f"train stream {len(train)} tokens; batch {a.batch} x {cfg.context}; device {a.device}, "
        f"{a.threads} thread(s); schedule {a.schedule} lr {a.lr}")
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if a.device == "cuda" else None

    def state():
        return {"config": cfg.to_dict(), "model": model.state_dict(), "opt": opt.state_dict(),
                "gen": gen.get_state(), "step": step, "tokens_seen": tokens_seen, "elapsed": elapsed,
                "history": history, "args": vars(a)}

    def evaluate():
        row = {"step": step, "tokens_seen": tokens_seen, "hours": round(elapsed / 3600, 3),
               "train_ce": run_ce, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
        for k, w in vals.items():
            row[k + "_ce"] = eval_loss(model, w, a.device)
        history.append(row)
        with open(os.path.join(a.work, "metrics.jsonl"), "a") as f:
            f.write(json.dumps(row) + "\n")
        log(f"eval step {step}: train {run_ce:.4f} val {row['val_ce']:.4f} old val {row['val_old_ce']:.4f}")

    def snapshot():
        save_atomic({"config": cfg.to_dict(), "model": model.state_dict(), "step": step, "tokens_seen": tokens_seen,
                     "elapsed": elapsed, "history": history}, os.path.join(a.work, f"ckpt-{step:08d}.pt"))
        snaps = sorted(glob.glob(os.path.join(a.work, "ckpt-*.pt")))
        for old in snaps[:-a.keep_snapshots]:
            os.remove(old)

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    model.train()
    run_ce, run_n = None, 0
    t_seg, tok_seg = time.time(), 0
    t_start = a.t_start = time.time()
    last_ckpt = last_snap = last_eval = time.time()
    while step < a.steps and not stop["now"]:
        for g in opt.param_groups:
            g["lr"] = lr_at(a, step)
        x = sample_batch(train, a.batch, cfg.context, gen).to(a.device)
        if amp is not None:
            with amp:
                logits = model(x[:, :-1])[0]
        else:
            logits = model(x[:, :-1])[0]
        loss = F.cross_entropy(logits.float().reshape(-1, vocab), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        n = x[:, 1:].numel()
        tokens_seen += n
        tok_seg += n
        li = loss.item()
        run_n += 1
        run_ce = li if run_ce is None else run_ce + (li - run_ce) / min(run_n, 100)  # mean of the last ~100
        now = time.time()
        if step % a.log_every == 0:
            log(f"step {step} ce {run_ce:.4f} lr {lr_at(a, step - 1):.2e} {tok_seg / (now - t_seg):.0f} tok/s "
                f"({tokens_seen / 1e6:.2f}M tokens)")
        elapsed += now - t_seg if step % a.log_every == 0 else 0.0
        if step % a.log_every == 0:
            t_seg, tok_seg = now, 0
        out_of_time = a.max_minutes is not None and now - t_start > a.max_minutes * 60
        if now - last_eval > a.eval_minutes * 60 or step == a.steps or out_of_time:
            evaluate()
            last_eval = time.time()
        if now - last_snap > a.snapshot_minutes * 60 or step == a.steps or out_of_time:
            snapshot()
            last_snap = time.time()
        if now - last_ckpt > a.ckpt_minutes * 60 or step == a.steps or out_of_time:
            save_atomic(state(), ckpt_path)
            last_ckpt = time.time()
        if out_of_time:
            log(f"--max-minutes {a.max_minutes} reached")
            break
    elapsed += time.time() - t_seg
    save_atomic(state(), ckpt_path)
    log(f"checkpoint at step {step} ({tokens_seen} tokens)")
    if step >= a.steps or a.write_lm:
        write_lm(a.work, model, cfg, step, tokens_seen, elapsed, history, a)
        log("lm.pt written")


def write_lm(work, model, cfg, step, tokens_seen, elapsed, history, a):
    """The recipe's LM file (lm_train.load_lm reads it; recipe.py's sae, figures, export stages)."""
    save_atomic({"config": cfg.to_dict(), "model": {k: v.float().cpu() for k, v in model.state_dict().items()},
                 "history": history, "train_seconds": elapsed, "tokens_seen": tokens_seen, "steps": step,
                 "schedule_changes": [], "schedule": {"kind": a.schedule, "lr": a.lr, "warmup": a.warmup,
                                                      "batch": a.batch}},
                os.path.join(work, "lm.pt"))


if __name__ == "__main__":
    main()
