"""Token streams and language-model training (resumable, seeded, device-agnostic)."""
from __future__ import annotations

import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from bpe import BOS_ID, EOS_ID, ByteBPE
from model import LMConfig, TinyLM


def tokenize_docs(tok: ByteBPE, docs) -> np.ndarray:
    """One stream: <|bos|> doc <|eos|> <|bos|> doc <|eos|> …  (uint16)."""
    out: list[int] = []
    for d in docs:
        out.append(BOS_ID)
        out.extend(tok.encode(d.text))
        out.append(EOS_ID)
    return np.asarray(out, dtype=np.uint16)


def sample_batch(stream: np.ndarray, batch: int, ctx: int, gen: torch.Generator) -> torch.Tensor:
    starts = torch.randint(0, len(stream) - ctx - 1, (batch,), generator=gen).numpy()
    return torch.from_numpy(np.stack([stream[s:s + ctx + 1].astype(np.int64) for s in starts]))


def eval_windows(stream: np.ndarray, ctx: int, max_windows: int) -> torch.Tensor:
    """Non-overlapping windows over the validation stream (deterministic)."""
    n = min(max_windows, (len(stream) - 1) // ctx)
    return torch.from_numpy(np.stack([stream[i * ctx:i * ctx + ctx + 1].astype(np.int64) for i in range(n)]))


@torch.no_grad()
def eval_loss(model: TinyLM, windows: torch.Tensor, device: str, batch: int = 16) -> float:
    model.eval()
    tot, n = 0.0, 0
    for i in range(0, len(windows), batch):
        x = windows[i:i + batch].to(device)
        logits = model(x[:, :-1])[0]
        tot += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum").item()
        n += x[:, 1:].numel()
    model.train()
    return tot / n


def train_lm(cfg: LMConfig, train: np.ndarray, val: np.ndarray, work: str, *, steps: int, batch: int,
             lr: float, seed: int, device: str, log=print, eval_every: int = 250) -> TinyLM:
    torch.manual_seed(seed)
    model = TinyLM(cfg).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "pos" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "pos" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(seed + 1)
    ckpt_path = os.path.join(work, "lm_ckpt.pt")
    step, elapsed = 0, 0.0
    history, schedule_changes = [], []
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=device)
        if ck["config"] == cfg.to_dict() and ck["step"] < steps:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["opt"])
            gen.set_state(ck["gen"])
            step, elapsed, history = ck["step"], ck["elapsed"], ck["history"]
            schedule_changes = ck.get("schedule_changes", [])
            if ck["steps"] != steps:  # the run goes on with a new length (new cosine from here)
                schedule_changes.append({"at_step": step, "from_steps": ck["steps"], "to_steps": steps})
            log(f"lm: resumed at step {step} (schedule changes: {schedule_changes})")
    val_windows = eval_windows(val, cfg.context, 64)
    warmup = max(1, min(100, steps // 10))

    def lr_at(s):
        if s < warmup:
            return lr * (s + 1) / warmup
        p = (s - warmup) / max(1, steps - warmup)
        return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))

    model.train()
    t0, tok_seen, run_loss = time.time(), 0, None
    while step < steps:
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        x = sample_batch(train, batch, cfg.context, gen).to(device)
        logits = model(x[:, :-1])[0]
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tok_seen += x[:, 1:].numel()
        run_loss = loss.item() if run_loss is None else 0.95 * run_loss + 0.05 * loss.item()
        last = step == steps
        if step % 50 == 0 or last:
            dt = time.time() - t0
            log(f"lm step {step}/{steps} loss {run_loss:.3f} lr {lr_at(step-1):.2e} "
                f"{tok_seen/dt:.0f} tok/s elapsed {(elapsed+dt)/60:.1f} min")
        if step % eval_every == 0 or last:
            vl = eval_loss(model, val_windows, device)
            history.append({"step": step, "train_loss_ema": run_loss, "val_loss": vl})
            log(f"lm step {step} val loss {vl:.4f}")
        if step % 100 == 0 or last:
            dt = time.time() - t0
            torch.save({"config": cfg.to_dict(), "steps": steps, "model": model.state_dict(),
                        "opt": opt.state_dict(), "gen": gen.get_state(), "step": step,
                        "elapsed": elapsed + dt, "history": history, "schedule_changes": schedule_changes},
                       ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
    elapsed += time.time() - t0
    torch.save({"config": cfg.to_dict(), "model": model.state_dict(), "history": history,
                "train_seconds": elapsed, "tokens_seen": steps * batch * cfg.context, "steps": steps,
                "schedule_changes": schedule_changes},
               os.path.join(work, "lm.pt"))
    return model


def load_lm(work: str, device: str = "cpu") -> tuple[TinyLM, dict]:
    ck = torch.load(os.path.join(work, "lm.pt"), map_location=device)
    model = TinyLM(LMConfig(**ck["config"])).to(device)
    model.load_state_dict(ck["model"])
    model.eval()
    return model, ck
