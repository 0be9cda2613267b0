"""Parity reference for an HF fixture: residual-stream hooks and logits from torch forward hooks,
without and with the KV cache, plain and steered. Written as tests/fixtures/hf/<model>/reference.json;
floats rounded to 7 significant digits. The schema is in tests/fixtures/hf/README.md.
"""
from __future__ import annotations

import torch

from hf_models import d_model, empty_past, hook_modules, hook_name, n_layers

STEER_LAYER = 1
STEER_HOOK = hook_name(STEER_LAYER, "mid")


def r7(x) -> float:
    return float(f"{float(x):.7g}")


def rounded(t: torch.Tensor):
    """Nested lists of 7-significant-digit floats."""
    if t.dim() == 0:
        return r7(t)
    return [rounded(s) for s in t] if t.dim() > 1 else [r7(v) for v in t.tolist()]


def downstream_hooks(L: int) -> list[str]:
    """The hooks strictly after blocks.1.hook_resid_mid: resid_post 1, then every hook of later blocks."""
    return [hook_name(STEER_LAYER, "post")] + [hook_name(i, w) for i in range(STEER_LAYER + 1, L)
                                                 for w in ("pre", "mid", "post")]


class Run:
    """One forward pass recording every hook (batch 1), optionally adding `steer` at STEER_HOOK."""

    def __init__(self, model, steer: torch.Tensor | None = None):
        self.model, self.steer = model, steer
        self.values: dict[str, torch.Tensor] = {}
        self.before_steer: torch.Tensor | None = None

    @torch.no_grad()
    def __call__(self, ids: list[int], past: list | None, start: int):
        model = self.model
        handles = []
        for name, mod in hook_modules(model).items():
            def fn(_m, _inp, out, name=name):
                if name == STEER_HOOK and self.steer is not None:
                    self.before_steer = out[0].clone()
                    out = out + self.steer
                self.values[name] = out[0].clone()
                return out
            handles.append(mod.register_forward_hook(fn))
        try:
            x = torch.tensor([ids])
            past = past if past is not None else empty_past(model, 1)
            total = start + len(ids)
            res = model(x, torch.ones(1, total, dtype=torch.long), torch.arange(start, total).unsqueeze(0), *past)
        finally:
            for h in handles:
                h.remove()
        return res[0][0], list(res[1:])


def case(model, ids: list[int], steer: torch.Tensor | None, cached: bool) -> dict:
    """No cache: all positions at once ([seq, d] per hook). With cache: the first seq-1 tokens, then the
    last one with their present as past ([d] per hook, the new position only)."""
    L = n_layers(model.config)
    names = downstream_hooks(L) if steer is not None else list(hook_modules(model))
    if cached:
        _, present = Run(model, steer)(ids[:-1], None, 0)
        run = Run(model, steer)
        logits, _ = run(ids[-1:], present, len(ids) - 1)
    else:
        run = Run(model, steer)
        logits, _ = run(ids, None, 0)
    pick = (lambda t: t[-1]) if cached else (lambda t: t)
    out = {"hooks": {n: rounded(pick(run.values[n])) for n in names}, "logits_last": rounded(logits[-1])}
    if steer is not None:
        out["at_hook_before_steering"] = rounded(pick(run.before_steer))
    return out


def steering_vector(model, ids: list[int], seed: int) -> torch.Tensor:
    """A seeded direction scaled to the mean residual norm at the steering hook."""
    run = Run(model)
    run(ids, None, 0)
    norm = run.values[STEER_HOOK].norm(dim=-1).mean()
    v = torch.randn(d_model(model.config), generator=torch.Generator().manual_seed(seed))
    return v / v.norm() * norm


@torch.no_grad()
def left_padded(model, ids: list[int], pad: int, pad_id: int) -> dict:
    """Batch of two, both masked where padded: the prompt right-padded, and the prompt left-padded by
    `pad` tokens (position_ids 0 on the first real token). The logits at each row's last real token
    equal no_cache.logits_last."""
    S = len(ids)
    x = [ids + [pad_id] * pad, [pad_id] * pad + ids]  # row 0 right-padded to the same length
    mask = [[1] * S + [0] * pad, [0] * pad + [1] * S]
    pos = [list(range(S)) + [0] * pad, [0] * pad + list(range(S))]
    logits = model(torch.tensor(x), torch.tensor(mask), torch.tensor(pos), *empty_past(model, 2))[0]
    return {"input_ids": x, "attention_mask": mask, "position_ids": pos,
            "last_real_position": [S - 1, S + pad - 1],
            "logits_at_last_real_position": [rounded(logits[0, S - 1]), rounded(logits[1, S + pad - 1])]}


def reference(model, name: str, prompt: str, ids: list[int], seed: int, sae: dict | None) -> dict:
    v = steering_vector(model, ids, seed)
    ref = {
        "model": name,
        "tolerance": 1e-4,
        "prompt": prompt,
        "input_ids": ids,
        "bos_prepended": True,
        "attention_mask": "all ones, length = past + seq",
        "position_ids": "0 .. seq-1 (with cache: the prefix 0 .. seq-2, then seq-1)",
        "hooks": list(hook_modules(model)),
        "no_cache": case(model, ids, None, False),
        "with_cache": dict(case(model, ids, None, True), prefix_length=len(ids) - 1, position=len(ids) - 1),
        "padded": left_padded(model, ids, 3, model.config["eos_token_id"]),
        "steering": {
            "hook": STEER_HOOK,
            "seed": seed,
            "vector": rounded(v),
            "norm": r7(v.norm()),
            "applies_to": "added to the hook's output at every position, including the cached prefix",
            "downstream_hooks": downstream_hooks(n_layers(model.config)),
            "no_cache": case(model, ids, v, False),
            "with_cache": case(model, ids, v, True),
        },
    }
    if sae is not None:
        ref["sae"] = sae
    return ref
