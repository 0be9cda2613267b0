"""Self-checks of a built fixture, run by both modes of the recipe (torch only; the ONNX graph is
checked structurally by hf_export.check, and against onnxruntime by check_parity.mjs when node is there):
the KV-cache path equals the full pass, a left-padded row equals the unpadded one (attention_mask is
honoured) and the attention is causal."""
from __future__ import annotations

import torch

from hf_models import empty_past
from hf_reference import Run


def _max(a, b) -> float:
    return float((a - b).abs().max())


@torch.no_grad()
def run_checks(model, ids: list[int], tol: float = 1e-4) -> dict:
    S = len(ids)
    full, _ = Run(model)(ids, None, 0)
    _, present = Run(model)(ids[:-1], None, 0)
    cached, _ = Run(model)(ids[-1:], present, S - 1)
    cache_err = _max(full[-1], cached[-1])

    # batch of two: row 0 the prompt, row 1 the same prompt left-padded by 3 masked tokens
    pad = 3
    x = torch.tensor([ids + [0] * pad, [7] * pad + ids])
    mask = torch.tensor([[1] * S + [0] * pad, [0] * pad + [1] * S])
    pos = torch.tensor([list(range(S)) + [0] * pad, [0] * pad + list(range(S))])
    out = model(x, mask, pos, *empty_past(model, 2))[0]
    pad_err = _max(out[0, :S], out[1, pad:])

    # causal: changing the last token leaves the earlier positions' logits as they were
    changed = ids[:-1] + [(ids[-1] + 1) % model.config["vocab_size"]]
    other, _ = Run(model)(changed, None, 0)
    causal_err = _max(full[:-1], other[:-1])

    res = {"cache_vs_full": cache_err, "left_padding_vs_unpadded": pad_err, "causal_prefix_change": causal_err}
    bad = {k: v for k, v in res.items() if v > tol}
    if bad:
        raise AssertionError(f"torch self-checks failed: {bad}")
    return res
