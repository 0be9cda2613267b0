#!/usr/bin/env python3
"""Hugging Face-layout fixtures: a tiny GPT-2 and a tiny Llama-style model with Hugging Face's module
names, exported with optimum's decoder I/O, trained briefly on the text corpus; a SAELens SAE for
each; torch parity references.

  /usr/bin/python3 models/recipes/hf/recipe.py            # writes tests/fixtures/hf/ (a few CPU minutes)
  /usr/bin/python3 models/recipes/hf/recipe.py --smoke    # everything small, in a temp dir, then checked

Output (under --out):
  gpt2-tiny/   config.json generation_config.json tokenizer.json tokenizer_config.json
               onnx/decoder_model.onnx reference.json
  llama-tiny/  the same, with onnx/decoder_model.onnx_data (the weights as ONNX external data)
  gpt2-tiny-sae/blocks.1.hook_resid_pre/    cfg.json sae_weights.safetensors  (standard)
  llama-tiny-sae/blocks.1.hook_resid_post/  cfg.json sae_weights.safetensors  (topk, centred)
  build.json   losses, SAE figures, self-check errors, sizes, timings

Needs Debian's python3-torch, python3-onnx and the corpus packages (see .ci/run). One CPU thread by
default (--threads). Everything is seeded (--seed).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, "..", "text"))  # corpus.py, bpe.py, sae.py
sys.path.insert(2, os.path.dirname(HERE))  # models/recipes: the shared toolkit, common/

PROMPT = "And God said, Let"  # 8 tokens with BOS at vocab 512

PRESETS = {
    "fixture": dict(docs=3000, vocab=512, lm_steps=500, batch=16, ctx=128, lr=3e-3, sae_tokens=60_000,
                    sae_ctx=64, sae_steps=3000, d_sae=256, k=8, l1=0.3),
    "smoke": dict(docs=300, vocab=320, lm_steps=20, batch=8, ctx=64, lr=3e-3, sae_tokens=4096, sae_ctx=32,
                  sae_steps=60, d_sae=256, k=8, l1=0.6),
}

MODELS = {"gpt2": "gpt2-tiny", "llama": "llama-tiny"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="small and fast, in a temp dir, then checked")
    p.add_argument("--out", help="output folder (default tests/fixtures/hf, or a temp dir with --smoke)")
    p.add_argument("--seed", type=int, default=1913)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="--smoke: keep the temp dir")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    import corpus
    import hf_export
    import hf_models
    import hf_sae
    import hf_tokenizer
    from hf_checks import run_checks
    from hf_reference import reference
    from hf_train import eval_loss, token_stream, train_lm

    mode = "smoke" if args.smoke else "fixture"
    s = PRESETS[mode]
    tmp = tempfile.mkdtemp(prefix="orrery-hf-smoke-") if args.smoke and not args.out else None
    out = args.out or tmp or os.path.join(REPO, "tests", "fixtures", "hf")
    os.makedirs(out, exist_ok=True)
    t0 = time.time()

    def log(msg: str):
        print(f"[{time.strftime('%H:%M:%S')} +{time.time() - t0:6.1f}s] {msg}", flush=True)

    docs = corpus.build_corpus(args.seed, gcide_chars=300_000, smoke=args.smoke)
    rng = random.Random(args.seed)
    train_docs = [d.text for d in docs if d.split == "train"]
    val_docs = [d.text for d in docs if d.split == "val"]
    rng.shuffle(train_docs)
    rng.shuffle(val_docs)
    train_docs, val_docs = train_docs[:s["docs"]], val_docs[:max(20, s["docs"] // 20)]
    log(f"corpus: {len(train_docs)} train / {len(val_docs)} val documents, {sum(map(len, train_docs))} chars")

    build: dict = {"mode": mode, "seed": args.seed, "preset": s, "prompt": PROMPT, "models": {}}
    for style, name in MODELS.items():
        t_model = time.time()
        merges = hf_tokenizer.train(train_docs, s["vocab"], style)
        tok = hf_tokenizer.HFTokenizer(merges, style)
        if tok.vocab_size != s["vocab"]:
            raise AssertionError(f"{name}: vocab {tok.vocab_size}, want {s['vocab']}")
        stream, val = token_stream(tok, train_docs), token_stream(tok, val_docs)
        log(f"{name}: tokenizer vocab {tok.vocab_size}, {len(stream)} train tokens")
        if style == "gpt2":
            config = hf_models.gpt2_config(tok.vocab_size, tok.eos_id)
        else:
            config = hf_models.llama_config(tok.vocab_size, tok.bos_id, tok.eos_id)
        model = hf_models.build(config)
        loss = train_lm(model, stream, steps=s["lm_steps"], batch=s["batch"], ctx=s["ctx"], lr=s["lr"],
                        seed=args.seed, log=log)
        vloss = eval_loss(model, val, s["ctx"], 16, args.seed + 5)
        log(f"{name}: train loss {loss:.3f}, val loss {vloss:.3f}")

        folder = os.path.join(out, name)
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        os.makedirs(folder)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
        with open(os.path.join(folder, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": tok.bos_id, "eos_token_id": tok.eos_id,
                       "transformers_version": config["transformers_version"]}, f, indent=2)
            f.write("\n")
        tok.save(folder, config.get("n_positions") or config["max_position_embeddings"])
        path = hf_export.export(model, folder, external_data=style == "llama")
        graph = hf_export.check(path, model)
        log(f"{name}: {path} opset {graph['opset']}, {graph['nodes']} nodes")

        sae, hook, center, k, sae_figs = hf_sae.train_for(style, model, stream, tok.bos_id, s, args.seed + 7, log)
        sae_dir = os.path.join(out, name + "-sae", hook)
        if os.path.isdir(os.path.dirname(sae_dir)):
            shutil.rmtree(os.path.dirname(sae_dir))
        hf_sae.save(sae, sae_dir, hf_sae.cfg(
            architecture="standard" if k is None else "topk", d_in=hf_models.d_model(config), d_sae=s["d_sae"],
            hook=hook, model_name=name, context=s["sae_ctx"], k=k, center=center))

        ids = tok.encode_with_bos(PROMPT)
        ref = reference(model, name, PROMPT, ids, args.seed + 3, None)
        hook_vals = torch.tensor(ref["no_cache"]["hooks"][hook])
        ref["sae"] = {"dir": f"../{name}-sae/{hook}", "hook": hook, "centred_before_encoding": center,
                      "top_features": hf_sae.prompt_features(sae, hook_vals, center)}
        if center:  # what an engine that forgets to centre would get: must differ
            ref["sae"]["top_features_without_centring"] = hf_sae.prompt_features(sae, hook_vals, False)
        if ref["steering"]["no_cache"]["logits_last"] == ref["no_cache"]["logits_last"]:
            raise AssertionError(f"{name}: steering left the logits unchanged")
        with open(os.path.join(folder, "reference.json"), "w") as f:
            json.dump(ref, f, separators=(",", ":"))
        checks = run_checks(model, ids)
        log(f"{name}: torch self-checks {checks}")
        sizes = {os.path.relpath(os.path.join(dp, fn), out): os.path.getsize(os.path.join(dp, fn))
                 for base in (folder, os.path.dirname(sae_dir)) for dp, _, fns in os.walk(base) for fn in fns}
        build["models"][name] = {
            "config": {k2: config[k2] for k2 in config if not k2.startswith("_")},
            "parameters": sum(p.numel() for p in model.parameters()),
            "train_loss": round(loss, 4), "val_loss": round(vloss, 4),
            "train_tokens_seen": s["lm_steps"] * s["batch"] * s["ctx"],
            "onnx": {k2: graph[k2] for k2 in ("opset", "nodes", "initializers", "initializer_elements")},
            "sae": dict(hook=hook, architecture="standard" if k is None else "topk", centred=center, **sae_figs),
            "torch_self_checks_max_abs": checks,
            "prompt_ids": ids,
            "bytes": sizes,
            "seconds": round(time.time() - t_model, 1),
        }
        parity = check_parity(folder, log)
        if parity is not None:
            build["models"][name]["ort_parity"] = parity
    build["seconds"] = round(time.time() - t0, 1)
    with open(os.path.join(out, "build.json"), "w") as f:
        json.dump(build, f, indent=1)
        f.write("\n")
    log(f"done in {build['seconds']}s → {out}")
    if tmp and not args.keep:
        shutil.rmtree(tmp)
    return 0


def check_parity(folder: str, log):
    """onnxruntime-node on the exported graph against reference.json (logits, with and without the
    cache), when node and the repo's node_modules are there; None when they are not."""
    node = shutil.which("node")
    script = os.path.join(HERE, "check_parity.mjs")
    if node is None or not os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node")) \
            or not os.path.exists(script):
        log("parity: node or onnxruntime-node not found, ONNX runtime parity skipped")
        return None
    r = subprocess.run([node, script, folder], capture_output=True, text=True)
    for line in (r.stdout + r.stderr).strip().split("\n"):
        log("parity: " + line)
    if r.returncode != 0:
        raise RuntimeError(f"ONNX parity check failed ({folder})")
    last = (r.stdout.strip().split("\n") or [""])[-1]
    try:
        return json.loads(last)
    except ValueError:
        return {"passed": True}


if __name__ == "__main__":
    sys.exit(main())
