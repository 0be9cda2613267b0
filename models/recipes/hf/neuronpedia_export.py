"""A Neuronpedia-format export of real dashboards for the gpt2-tiny fixture's SAE, computed here over a
slice of the text corpus. Writes tests/fixtures/hf/gpt2-tiny-neuronpedia/ in the layout of Neuronpedia's
own database dump (hijohnnylin/neuronpedia utils/neuronpedia-utils/neuronpedia_utils/export-data.py;
field by field in main/index/dashboards/FORMAT.md and the Orrery importer main/index/dashboards/):

  model.jsonl, source.jsonl                 one row each (plain JSON lines)
  features/batch-0.jsonl.gz                 one row per feature ("Neuron"): maxActApprox, frac_nonzero,
                                            freq_hist_data_bar_values/_heights, pos_str/pos_values,
                                            neg_str/neg_values, topkCosSimIndices/Values, hookName
  activations/batch-0.jsonl.gz              the top activation records: tokens, values, maxValue,
                                            maxValueTokenIndex, minValue, binMin -1 (a top record)
  explanations/batch-0.jsonl.gz             one per live feature, made from its top tokens ("fires on
                                            “;”, “and”"), by explanationModelName "orrery-fixture-top-tokens"

How each figure is computed (the SAE is SAELens "standard": f = ReLU((x - b_dec) W_enc + b_enc)):
- x = blocks.1.hook_resid_pre of the torch model rebuilt from the fixture's ONNX initializers (module names
  as transformers'), over 64-token windows of validation documents with BOS prepended (cfg prepend_bos);
  the BOS position is never read (values 0 there, not counted).
- frac_nonzero = share of read token positions with f > 0; maxActApprox = the largest f.
- frequency histogram: 32 equal-width bars over (0, max], centres and token counts (as SAEDashboard does).
- logit lens: W_dec[i] @ W_U (W_U = wte transposed, tied), the 10 largest and 10 most negative with tokens.
- nearest: the 10 features with the largest decoder cosine.
- activation records: the 10 windows where the feature peaks highest (one per window), cropped to 16 tokens
  around the peak; tokens are the tokenizer's decoded strings.
Index values are strings (as the database dump writes them). UMAP fields are 0 (Neuronpedia's column default:
no UMAP), so a galaxy comes from Orrery's own build.

Run: /usr/bin/python3 models/recipes/hf/neuronpedia_export.py [--out DIR] [--windows N]
Needs Debian's python3-torch, python3-onnx and the corpus packages (as recipe.py). One CPU thread, seeded.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, "..", "text"))  # corpus.py, bpe.py
sys.path.insert(2, os.path.dirname(HERE))  # models/recipes: the shared toolkit, common/

import corpus  # noqa: E402
import hf_tokenizer  # noqa: E402
from common import safetensors  # noqa: E402
from hf_models import build, empty_past, hook_modules  # noqa: E402

MODEL_DIR = os.path.join(ROOT, "tests", "fixtures", "hf", "gpt2-tiny")
SAE_DIR = os.path.join(ROOT, "tests", "fixtures", "hf", "gpt2-tiny-sae", "blocks.1.hook_resid_pre")
OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "hf", "gpt2-tiny-neuronpedia")
MODEL_ID = "gpt2-tiny"
SOURCE_ID = "1-res-tiny"
EXPLAINER = "orrery-fixture-top-tokens"
CTX = 64
RECORDS = 10
CROP = 16
BARS = 32
LENS = 10
NEAR = 10
SEED = 1913


def r(x: float) -> float:
    return float(f"{float(x):.6g}")


def load_model():
    with open(os.path.join(MODEL_DIR, "config.json")) as f:
        config = json.load(f)
    model = build(config)
    graph = onnx.load(os.path.join(MODEL_DIR, "onnx", "decoder_model.onnx"))
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.graph.initializer}
    state = model.state_dict()
    missing = [k for k in state if k not in weights and k != "lm_head.weight"]
    if missing:
        raise SystemExit(f"the ONNX graph lacks {missing[:5]}")
    model.load_state_dict({k: weights.get(k, state[k]) for k in state}, strict=True)
    model.lm_head.weight = model.transformer.wte.weight
    model.eval()
    return config, model


def load_tokenizer():
    with open(os.path.join(MODEL_DIR, "tokenizer.json"), encoding="utf-8") as f:
        j = json.load(f)
    tok = hf_tokenizer.HFTokenizer([tuple(m) for m in j["model"]["merges"]], "gpt2")
    if tok.vocab != j["model"]["vocab"]:
        raise SystemExit("tokenizer.json's vocabulary differs from the one its merges make")
    return tok


def windows(tok, n: int) -> list[list[int]]:
    """n windows of CTX-1 tokens from validation documents, each with BOS in front."""
    docs = [d.text for d in corpus.build_corpus(SEED, gcide_chars=300_000) if d.split == "val"]
    random.Random(SEED).shuffle(docs)
    stream: list[int] = []
    for text in docs:
        stream += tok.encode(text) + [tok.eos_id]
        if len(stream) >= n * (CTX - 1):
            break
    return [[tok.bos_id] + stream[i * (CTX - 1):(i + 1) * (CTX - 1)] for i in range(n)
            if len(stream) >= (i + 1) * (CTX - 1)]


@torch.no_grad()
def hook_values(model, ids: torch.Tensor, hook: str) -> torch.Tensor:
    seen = {}
    handle = hook_modules(model)[hook].register_forward_hook(lambda _m, _i, out: seen.setdefault("x", out))
    try:
        B, S = ids.shape
        model(ids, torch.ones(B, S, dtype=torch.long), torch.arange(S).unsqueeze(0).expand(B, S),
              *empty_past(model, B))
    finally:
        handle.remove()
    return seen["x"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=OUT_DIR)
    ap.add_argument("--windows", type=int, default=512)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    with open(os.path.join(SAE_DIR, "cfg.json")) as f:
        cfg = json.load(f)
    if cfg["architecture"] != "standard":
        raise SystemExit(f"expected a standard SAE, got {cfg['architecture']}")
    w = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in
         safetensors.load_file(os.path.join(SAE_DIR, "sae_weights.safetensors")).items()}
    W_enc, b_enc, W_dec, b_dec = w["W_enc"], w["b_enc"], w["W_dec"], w["b_dec"]
    d_sae = W_enc.shape[1]
    config, model = load_model()
    tok = load_tokenizer()
    wins = windows(tok, args.windows)
    ids = torch.tensor(wins)
    acts = []
    for i in range(0, len(wins), 64):
        x = hook_values(model, ids[i:i + 64], cfg["hook_name"])
        acts.append(torch.relu((x - b_dec) @ W_enc + b_enc))
    f = torch.cat(acts)  # [windows, CTX, d_sae]
    f[:, 0, :] = 0  # the BOS position is never read
    read = f[:, 1:, :].reshape(-1, d_sae)
    n_read = read.shape[0]
    # Token strings as Neuronpedia shows them (decoded, leading spaces kept).
    text_of = {i: tok.decode([i]) for i in range(tok.vocab_size)}
    text_of[tok.bos_id] = "<|endoftext|>"
    W_U = model.transformer.wte.weight.detach().T  # [d_model, vocab]
    lens = W_dec @ W_U  # [d_sae, vocab]
    unit = W_dec / W_dec.norm(dim=1, keepdim=True).clamp_min(1e-12)
    cos = unit @ unit.T
    cos.fill_diagonal_(-2)
    peak, peak_at = f.max(dim=1)  # [windows, d_sae]

    features, activations, explanations = [], [], []
    live = 0
    for j in range(d_sae):
        col = read[:, j]
        nz = col[col > 0]
        mx = float(nz.max()) if nz.numel() else 0.0
        key = {"modelId": MODEL_ID, "layer": SOURCE_ID, "index": str(j)}
        values, heights = [], []
        if nz.numel():
            counts = torch.histc(nz, bins=BARS, min=0.0, max=mx)
            width = mx / BARS
            for b in range(BARS):
                if counts[b] > 0:
                    values.append(r((b + 0.5) * width))
                    heights.append(int(counts[b]))
        top = torch.topk(lens[j], LENS)
        bottom = torch.topk(-lens[j], LENS)
        near = torch.topk(cos[j], NEAR)
        features.append({
            **key,
            "maxActApprox": r(mx),
            "frac_nonzero": r(nz.numel() / n_read),
            "freq_hist_data_bar_values": values,
            "freq_hist_data_bar_heights": heights,
            "pos_str": [text_of[int(t)] for t in top.indices],
            "pos_values": [r(v) for v in top.values],
            "neg_str": [text_of[int(t)] for t in bottom.indices],
            "neg_values": [r(-v) for v in bottom.values],
            "topkCosSimIndices": [int(i) for i in near.indices],
            "topkCosSimValues": [r(v) for v in near.values],
            "hookName": cfg["hook_name"],
            "hasVector": False,
            "vector": [],
            "creatorId": "orrery",
            "sourceSetName": "res-tiny",
        })
        if not nz.numel():
            continue
        live += 1
        order = torch.argsort(peak[:, j], descending=True)[:RECORDS]
        top_tokens: list[str] = []
        for rank, wi in enumerate(order.tolist()):
            if peak[wi, j] <= 0:
                break
            at = int(peak_at[wi, j])
            lo = max(0, min(at - CROP // 2, CTX - CROP))
            span = list(range(lo, lo + CROP))
            toks = [text_of[int(ids[wi, p])] for p in span]
            vals = [r(f[wi, p, j]) for p in span]
            m = max(vals)
            activations.append({
                "id": f"{SOURCE_ID}-{j}-{rank}",
                **key,
                "tokens": toks,
                "values": vals,
                "maxValue": m,
                "maxValueTokenIndex": vals.index(m),
                "minValue": min(vals),
                "dataSource": f"corpus val window {wi}",
                "creatorId": "orrery",
                "binMin": -1,
                "binMax": None,
                "binContains": None,
            })
            token = toks[vals.index(m)]
            word = token.strip() or json.dumps(token)[1:-1]  # "\n" for a newline
            if word not in top_tokens:
                top_tokens.append(word)
        if top_tokens:
            quoted = ", ".join(f"“{t}”" for t in top_tokens[:4])
            explanations.append({
                "id": f"{SOURCE_ID}-{j}-e0",
                **key,
                "description": f"fires on {quoted}",
                "authorId": "orrery",
                "embedding": None,
                "typeName": "orrery-top-tokens",
                "explanationModelName": EXPLAINER,
                "umap_x": 0,
                "umap_y": 0,
                "umap_cluster": 0,
                "umap_log_feature_sparsity": 0,
            })

    out = args.out
    for sub in ("features", "activations", "explanations"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)

    def jsonl(rows) -> bytes:
        return "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows).encode("utf-8")

    def put_gz(rel: str, rows) -> None:
        # mtime 0: the same rows give the same bytes.
        with open(os.path.join(out, rel), "wb") as fh:
            fh.write(gzip.compress(jsonl(rows), compresslevel=9, mtime=0))

    with open(os.path.join(out, "model.jsonl"), "wb") as fh:
        fh.write(jsonl([{"id": MODEL_ID, "displayName": "GPT-2 tiny (Orrery fixture)",
                         "displayNameShort": MODEL_ID, "layers": config["n_layer"],
                         "dimension": config["n_embd"], "tlensId": None, "instruct": False,
                         "creatorId": "orrery"}]))
    with open(os.path.join(out, "source.jsonl"), "wb") as fh:
        fh.write(jsonl([{"id": SOURCE_ID, "modelId": MODEL_ID, "setName": "res-tiny", "hasDashboards": True,
                         "hasUmap": False, "num_prompts": len(wins), "num_tokens_in_prompt": CTX - 1,
                         "dataset": cfg["dataset_path"], "saelensConfig": json.dumps(cfg),
                         "creatorId": "orrery", "visibility": "PUBLIC"}]))
    put_gz("features/batch-0.jsonl.gz", features)
    put_gz("activations/batch-0.jsonl.gz", activations)
    put_gz("explanations/batch-0.jsonl.gz", explanations)
    size = sum(os.path.getsize(os.path.join(dp, n)) for dp, _, ns in os.walk(out) for n in ns)
    print(json.dumps({"out": out, "windows": len(wins), "tokens_read": n_read, "features": d_sae, "live": live,
                      "records": len(activations), "explanations": len(explanations), "bytes": size}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
