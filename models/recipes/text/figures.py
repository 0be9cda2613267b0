"""Quality figures on the validation split: LM loss against unigram/bigram baselines, SAE
reconstruction at each hook (FVE, L0, dead features, CE loss recovered) and a steering
experiment with the first hook's SAE.
Writes <work>/figures.json (copied into the pack's metrics.json) and sparsity.safetensors."""
from __future__ import annotations

import collections
import json
import math
import os
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from common import safetensors
from bpe import BOS_ID, EOS_ID, ByteBPE
from lm_train import eval_windows, load_lm
from model import at_hook
from sae import load_shipped, sae_dir

PROMPTS = ["The", "I", "And", "It is", "A man", "When the", "There was", "What"]


def source_ids(c, tok: ByteBPE) -> tuple[np.ndarray, list[str]]:
    """Source index of every token of the validation stream (same order as tokens_val.npy)."""
    from recipe import load_docs
    docs = [d for d in load_docs(c) if d.split == "val"]
    names = sorted({d.meta["source"] for d in docs})
    out = []
    for d in docs:
        out.extend([names.index(d.meta["source"])] * (len(tok.encode(d.text)) + 2))
    return np.asarray(out, dtype=np.int8), names


def window_indices(n_tokens: int, ctx: int, max_windows: int) -> list[int]:
    """Which of the validation stream's non-overlapping windows the figures read: all of them up
    to max_windows, else max_windows spread evenly (a stream ordered by source keeps every source)."""
    total = (n_tokens - 1) // ctx
    if total <= max_windows:
        return list(range(total))
    return sorted({int(i) for i in np.linspace(0, total - 1, max_windows)})


def baselines(tr: np.ndarray, prev: np.ndarray, nxt: np.ndarray, V: int) -> dict:
    uni = np.bincount(tr, minlength=V).astype(np.float64) + 1.0
    p_uni = uni / uni.sum()
    unigram = float(-np.log(p_uni[nxt]).mean())
    big = np.bincount(tr[:-1].astype(np.int64) * V + tr[1:], minlength=V * V)
    c_ab = big[prev.astype(np.int64) * V + nxt].astype(np.float64)
    c_a = np.bincount(tr[:-1], minlength=V)[prev].astype(np.float64)
    ratio = np.divide(c_ab, c_a, out=np.zeros_like(c_ab), where=c_a > 0)
    best = None
    for lam in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 0.995):  # tuned on validation: favours the baseline
        loss = float(-np.log(lam * ratio + (1 - lam) * p_uni[nxt]).mean())
        if best is None or loss < best[0]:
            best = (loss, lam)
    return {"unigram_loss": unigram, "bigram_loss": best[0], "bigram_lambda": best[1]}


@torch.no_grad()
def sample(model, prompt_ids: list[int], n: int, steer_vec, gen: torch.Generator, temperature=0.8):
    """Sample n tokens with the KV cache; steer_vec [d_model] is added at every position."""
    cfg = model.cfg
    ids = torch.tensor([prompt_ids])
    past_k = torch.zeros(cfg.n_layers, 1, cfg.n_heads, 0, cfg.d_head)
    past_v = torch.zeros_like(past_k)
    out = []
    x, pos0 = ids, 0
    for _ in range(n):
        pos = torch.arange(pos0, pos0 + x.shape[1]).unsqueeze(0)
        steer = steer_vec.view(1, 1, -1).expand(1, x.shape[1], -1)
        logits, past_k, past_v, _ = model(x, pos, past_k, past_v, steer)
        probs = torch.softmax(logits[0, -1] / temperature, -1)
        nxt = int(torch.multinomial(probs, 1, generator=gen))
        out.append(nxt)
        pos0 += x.shape[1]
        x = torch.tensor([[nxt]])
        if pos0 >= cfg.context:
            break
    return out


def sae_figures(c, model, layer: int, acts, windows, win_src, n_sources: int) -> tuple[dict, dict]:
    """FVE, L0, dead features and CE loss recovered of the shipped SAE at `layer` on the
    validation activations there; writes its sparsity.safetensors. Returns the figures and what
    the steering experiment reads (the SAE, its sparse codes, densities, per-source means)."""
    cfg = model.cfg
    V = cfg.vocab_size
    src_names = range(n_sources)
    out: dict = {}
    # ---- SAE on the validation activations (the shipped fp16 weights) ----
    d = sae_dir(c, layer)
    sae = load_shipped(os.path.join(d, "sae_weights.safetensors"), c.s["k"])
    d_sae = sae.W_dec.shape[0]
    fires = torch.zeros(d_sae)
    max_act = torch.zeros(d_sae)
    mean_act_src = torch.zeros(len(src_names), d_sae)
    src_count = torch.bincount(win_src, minlength=len(src_names)).float()
    sse, l0 = 0.0, 0.0
    mu = acts.mean(0)
    sst = (acts - mu).pow(2).sum().item()
    top_pos = []  # (activation, flat position) candidates per feature
    for i in range(0, len(acts), 8192):
        x = acts[i:i + 8192]
        vals, idx = sae.encode_sparse(x)
        x_hat = sae.decode_sparse(vals, idx)
        sse += (x - x_hat).pow(2).sum().item()
        on = vals > 0
        l0 += on.sum().item()
        fires.index_add_(0, idx[on], torch.ones(int(on.sum())))
        dense = torch.zeros(x.shape[0], d_sae).scatter_(1, idx, vals)
        max_act = torch.maximum(max_act, dense.max(0).values)
        mean_act_src.index_add_(0, win_src[i:i + 8192], dense)
        top_pos.append((vals, idx))
    all_vals = torch.cat([v for v, _ in top_pos])  # [n_tok, k]: the codes, kept sparse
    all_idx = torch.cat([j for _, j in top_pos])
    density = fires / len(acts)
    out.update({
        "d_in": cfg.d_model, "d_sae": d_sae, "k": c.s["k"], "hook": f"blocks.{layer}.hook_resid_post",
        "fve": 1 - sse / sst, "mean_l0": l0 / len(acts), "dead_fraction": float((fires == 0).float().mean()),
        "dead_features": int((fires == 0).sum()), "val_tokens": len(acts),
    })
    safetensors.save_file({"sparsity": np.log10(density.numpy() + 1e-10).astype(np.float32)},
                    os.path.join(d, "sparsity.safetensors"))

    # CE loss recovered: clean vs SAE reconstruction vs zero ablation at the hook
    sub = windows[: max(2, min(len(windows), 192))]
    losses = {}
    for name, fn in [("clean", None), ("sae", lambda h: sae(h.reshape(-1, h.shape[-1])).reshape(h.shape)),
                     ("zero", lambda h: torch.zeros_like(h))]:
        tot = 0.0
        for i in range(0, len(sub), 16):
            x = sub[i:i + 16]
            with at_hook(model, layer):
                logits = model(x[:, :-1], replace_hook=fn)[0]
            tot += F.cross_entropy(logits.reshape(-1, V), x[:, 1:].reshape(-1), reduction="sum").item()
        losses[name] = tot / (sub.shape[0] * cfg.context)
    out["ce_loss_clean"] = losses["clean"]
    out["ce_loss_sae"] = losses["sae"]
    out["ce_loss_zero_ablation"] = losses["zero"]
    out["ce_loss_recovered"] = (losses["zero"] - losses["sae"]) / (losses["zero"] - losses["clean"])
    c.log(f"figures: sae at layer {layer} " + json.dumps({k: v for k, v in out.items()}))

    return out, {"sae": sae, "all_vals": all_vals, "all_idx": all_idx, "density": density,
                 "max_act": max_act, "mean_act_src": mean_act_src, "src_count": src_count}


def stage(c):
    model, ck = load_lm(c.work, c.device)
    model = model.cpu()
    model.cfg = replace(model.cfg, hook_layer=c.hooks()[0])  # the first hook: LM loop, steering
    cfg = model.cfg
    V = cfg.vocab_size
    tok = ByteBPE.load(c.o("tokenizer.json"))
    tr, va = np.load(c.w("tokens_train.npy")), np.load(c.w("tokens_val.npy"))
    src, src_names = source_ids(c, tok)
    assert len(src) == len(va), "validation stream and documents disagree"
    picked = window_indices(len(va), cfg.context, c.s.get("figures_windows", 10_000))
    windows = eval_windows(va, cfg.context, picked[-1] + 1)[picked]
    n_tok = windows.shape[0] * cfg.context
    fig: dict = {"lm": {}, "sae": {}, "steering": {}}

    # ---- LM against baselines, same target tokens ----
    tot = 0.0
    hooks = []
    for i in range(0, len(windows), 16):
        x = windows[i:i + 16]
        logits, _, _, h = model(x[:, :-1])
        tot += F.cross_entropy(logits.reshape(-1, V), x[:, 1:].reshape(-1), reduction="sum").item()
        hooks.append(h.reshape(-1, cfg.d_model))
    acts = torch.cat(hooks)
    win_src = torch.from_numpy(np.stack([src[i * cfg.context:(i + 1) * cfg.context] for i in picked]).reshape(-1).astype(np.int64))
    fig["lm"]["val_loss"] = tot / n_tok
    fig["lm"].update(baselines(tr, windows[:, :-1].reshape(-1).numpy(), windows[:, 1:].reshape(-1).numpy(), V))
    fig["lm"]["val_tokens"] = n_tok
    fig["lm"]["parameters"] = model.num_params()
    fig["lm"]["tokens_seen"] = ck.get("tokens_seen")
    fig["lm"]["train_minutes"] = round(ck.get("train_seconds", 0) / 60, 1)
    fig["lm"]["history"] = ck.get("history")
    fig["lm"]["steps"] = ck.get("steps")
    fig["lm"]["schedule_changes"] = ck.get("schedule_changes", [])
    if ck.get("from_pack"):  # add_hooks.py: the LM read back from a shipped pack's graphs
        fig["lm"]["from_pack"] = ck["from_pack"]
    c.log(f"figures: lm val loss {fig['lm']['val_loss']:.4f}, bigram {fig['lm']['bigram_loss']:.4f}, "
          f"unigram {fig['lm']['unigram_loss']:.4f} over {n_tok} tokens")

    # ---- SAE at each hook, on the validation activations there (the shipped fp16 weights) ----
    fig["saes"] = []
    parts = None
    for layer in c.hooks():
        if layer == cfg.hook_layer:
            at = acts
        else:
            with at_hook(model, layer), torch.no_grad():
                at = torch.cat([model(windows[i:i + 16][:, :-1], stop_at_hook=True).reshape(-1, cfg.d_model)
                                for i in range(0, len(windows), 16)])
        figs, p = sae_figures(c, model, layer, at, windows, win_src, len(src_names))
        fig["saes"].append(figs)
        if layer == cfg.hook_layer:  # the steering experiment: the first hook's SAE
            fig["sae"], parts = figs, p
    sae, all_vals, all_idx, density, max_act, mean_act_src, src_count = (
        parts[k] for k in ("sae", "all_vals", "all_idx", "density", "max_act", "mean_act_src", "src_count"))

    # ---- steering ----
    flat_ids = windows[:, :-1].reshape(-1)
    flat_next = windows[:, 1:].reshape(-1)
    uni = np.bincount(tr, minlength=V).astype(np.float64) + 1
    uni /= uni.sum()
    mean_src = mean_act_src / src_count.clamp_min(1).unsqueeze(1)
    alive = torch.nonzero(density >= 0.002).flatten()
    chosen = []
    for s in range(len(src_names)):
        # the most source-selective feature among the reasonably dense ones
        others = torch.cat([mean_src[:s], mean_src[s + 1:]]).max(0).values
        sel = (mean_src[s] / (others + 1e-6))[alive]
        for j in sel.argsort(descending=True).tolist():
            f = int(alive[j])
            if f not in chosen:
                chosen.append(f)
                break
    g = torch.Generator().manual_seed(c.seed + 21)
    extra = alive[torch.randperm(len(alive), generator=g)].tolist()
    for f in extra:
        if len(chosen) >= c.s["steer_features"]:
            break
        if f not in chosen:
            chosen.append(f)
    chosen = chosen[: c.s["steer_features"]]
    strength_mult = 4.0
    feats = []
    for f in chosen:
        col = (all_vals * (all_idx == f)).sum(1)  # activation of feature f at every position
        n_top = max(5, int(0.002 * len(col)))
        top = col.topk(n_top).indices
        top = top[col[top] > 0]
        # "top tokens": the tokens the feature predicts, i.e. those most over-represented right
        # after its strongest activations (lift over the unigram), at least 2 occurrences
        nxt_counts = collections.Counter(flat_next[top].tolist())
        lift = {t: n / len(top) / uni[t] for t, n in nxt_counts.items() if n >= 2 and t not in (BOS_ID, EOS_ID)}
        top_next = sorted(lift, key=lambda t: -lift[t])[:10]
        act_counts = collections.Counter(flat_ids[top].tolist())
        top_act = [t for t, _ in act_counts.most_common(10)]
        vec = sae.W_dec[f].detach() * float(max_act[f]) * strength_mult
        rates = {"base_next": [], "steer_next": [], "base_act": [], "steer_act": []}
        samples = {}
        for p_i, prompt in enumerate(PROMPTS[: c.s["steer_prompts"]]):
            ids = [BOS_ID] + tok.encode(prompt)
            for r in range(c.s["steer_samples"]):
                seed = c.seed * 1000 + p_i * 10 + r
                base = sample(model, ids, c.s["gen_tokens"], torch.zeros(cfg.d_model), torch.Generator().manual_seed(seed))
                steer = sample(model, ids, c.s["gen_tokens"], vec, torch.Generator().manual_seed(seed))
                for key, toks in (("base", base), ("steer", steer)):
                    rates[key + "_next"].append(sum(t in top_next for t in toks) / max(1, len(toks)))
                    rates[key + "_act"].append(sum(t in top_act for t in toks) / max(1, len(toks)))
                if r == 0 and p_i < 2:
                    samples[prompt] = {"before": tok.decode(base), "after": tok.decode(steer)}
        sel_src = int(mean_src[:, f].argmax())
        feats.append({
            "feature": f, "max_activation": float(max_act[f]), "density": float(density[f]),
            "strength": float(max_act[f]) * strength_mult, "strength_times_max": strength_mult,
            "strongest_source": src_names[sel_src],
            "mean_activation_by_source": {n: float(mean_src[s, f]) for s, n in enumerate(src_names)},
            "top_next_tokens": [tok.token_str(t) for t in top_next],
            "top_activating_tokens": [tok.token_str(t) for t in top_act],
            "freq_top_next_before": float(np.mean(rates["base_next"])),
            "freq_top_next_after": float(np.mean(rates["steer_next"])),
            "freq_top_activating_before": float(np.mean(rates["base_act"])),
            "freq_top_activating_after": float(np.mean(rates["steer_act"])),
            "samples": samples,
        })
        c.log(f"figures: steer feature {f} ({src_names[sel_src]}) next-token freq "
              f"{feats[-1]['freq_top_next_before']:.3f} → {feats[-1]['freq_top_next_after']:.3f}, "
              f"activating-token freq {feats[-1]['freq_top_activating_before']:.3f} → "
              f"{feats[-1]['freq_top_activating_after']:.3f}; top next {feats[-1]['top_next_tokens'][:6]}")
    fig["steering"] = {
        "method": "add strength·W_dec[f] at every position; temperature 0.8 sampling, same seed before/after",
        "prompts": PROMPTS[: c.s["steer_prompts"]], "samples_per_prompt": c.s["steer_samples"],
        "tokens_per_sample": c.s["gen_tokens"], "features": feats,
        "mean_freq_top_next_before": float(np.mean([f["freq_top_next_before"] for f in feats])),
        "mean_freq_top_next_after": float(np.mean([f["freq_top_next_after"] for f in feats])),
        "features_raised": sum(f["freq_top_next_after"] > f["freq_top_next_before"] for f in feats),
    }
    json.dump(fig, open(c.w("figures.json"), "w"), indent=1, ensure_ascii=False)
    c.log("figures: written " + c.w("figures.json"))
