"""Token streams from the text corpus and a short next-token training run for the tiny HF models."""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from hf_models import empty_past


def token_stream(tok, docs) -> np.ndarray:
    """Documents joined as the style's pretraining data is: GPT-2 puts <|endoftext|> between
    documents; Llama wraps each in <s> … </s>."""
    out: list[int] = []
    for text in docs:
        if tok.style == "gpt2":
            out += tok.encode(text) + [tok.eos_id]
        else:
            out += [tok.bos_id] + tok.encode(text) + [tok.eos_id]
    return np.asarray(out, dtype=np.int32)


def windows(stream: np.ndarray, ctx: int, n: int, g: torch.Generator) -> torch.Tensor:
    starts = torch.randint(0, len(stream) - ctx - 1, (n,), generator=g).numpy()
    return torch.from_numpy(np.stack([stream[s:s + ctx + 1].astype(np.int64) for s in starts]))


def full_forward(model, ids: torch.Tensor):
    """Logits for ids [B, S] with no cache and no padding."""
    B, S = ids.shape
    pos = torch.arange(S).unsqueeze(0).expand(B, S)
    return model(ids, torch.ones(B, S, dtype=torch.long), pos, *empty_past(model, B))[0]


def train_lm(model, stream: np.ndarray, *, steps: int, batch: int, ctx: int, lr: float, seed: int, log) -> float:
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    model.train()
    t0, loss_avg = time.time(), None
    for step in range(steps):
        for gr in opt.param_groups:
            gr["lr"] = lr * min(1.0, (step + 1) / 20) * (0.1 + 0.9 * (1 - step / steps))
        x = windows(stream, ctx, batch, g)
        logits = full_forward(model, x[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss_avg = loss.item() if loss_avg is None else 0.95 * loss_avg + 0.05 * loss.item()
        if step % 100 == 0 or step == steps - 1:
            log(f"lm step {step}/{steps} loss {loss_avg:.3f} ({(step + 1) * batch * ctx / (time.time() - t0):.0f} tok/s)")
    model.eval()
    return float(loss_avg)


@torch.no_grad()
def eval_loss(model, stream: np.ndarray, ctx: int, n: int, seed: int) -> float:
    x = windows(stream, ctx, n, torch.Generator().manual_seed(seed))
    logits = full_forward(model, x[:, :-1])
    return float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1)))
