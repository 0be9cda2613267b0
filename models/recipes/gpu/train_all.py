#!/usr/bin/env python3
"""The GPU path: on one CUDA GPU, in about 10 minutes of GPU time, a 40M-parameter text LM on the
expanded corpus (models/recipes/text/corpus_plus.py) and the emoji VAE at 128 px, then their packs.

  models/recipes/gpu/train_all.sh                     # train both, build both packs
  models/recipes/gpu/train_all.sh --phase train       # only the GPU part (LM + VAE checkpoints)
  models/recipes/gpu/train_all.sh --phase pack        # later, anywhere: SAEs, figures, ONNX, index
  models/recipes/gpu/train_all.sh --smoke             # tiny sizes on the CPU, every step, temp dir

Text: models/recipes/text/train_big.py trains the LM (bfloat16 autocast, cosine schedule ending
at --text-minutes), then models/recipes/text/recipe.py's stages sae, figures, export, pack and
index build the pack from its lm.pt with the shipped pack's tokenizer. Emoji:
models/recipes/emoji/recipe.py --preset gpu128 (its data and vae stages in the train phase, pack and
index in the pack phase). Packs go to <work>/packs/{text,emoji}; copy one over models/ only when
its metrics meet the figures (models/README.md). Timings go to <work>/gpu_run.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TEXT = os.path.join(REPO, "models", "recipes", "text")
EMOJI = os.path.join(REPO, "models", "recipes", "emoji")
SHIPPED_TEXT = os.path.join(REPO, "models", "text-fortunes")

# the LM: 12 blocks of d_model 512 (8 heads of 64), vocab 4096, context 256 -> ~40M parameters
TEXT_GPU = dict(d_model=512, n_layers=12, n_heads=8, context=256, batch=64, lr=6e-4, warmup=300)
TEXT_SMOKE = dict(d_model=32, n_layers=2, n_heads=2, context=64, batch=4, lr=3e-3, warmup=5)
# recipe.py settings for the pack stages (the LM's shape must match lm.pt)
SAE_GPU = dict(d_sae=4096, k=32, sae_tokens=2_000_000, sae_passes=1, sae_batch=4096, sae_lr=1e-3, n_examples=3000)
SAE_SMOKE = dict(d_sae=64, k=4, sae_tokens=4096, sae_passes=2, sae_batch=256, sae_lr=1e-3, n_examples=40,
                 steer_features=2, steer_prompts=2, steer_samples=1, gen_tokens=8, parity_seq=8)


def flags(d: dict) -> list[str]:
    return [x for k, v in d.items() for x in ("--" + k.replace("_", "-"), str(v))]


def run(cmd: list[str], log) -> float:
    log("$ " + " ".join(os.path.relpath(c, REPO) if c.startswith(REPO) else c for c in cmd))
    t = time.time()
    subprocess.run(cmd, check=True, cwd=REPO)
    return time.time() - t


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--phase", choices=["all", "train", "pack"], default="all")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, a few steps, on the CPU, in a temp dir")
    p.add_argument("--work", help="work folder (default models/recipes/gpu/work, git-ignored)")
    p.add_argument("--device", help="default cuda (cpu with --smoke)")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default 8; 1 with --smoke)")
    p.add_argument("--text-minutes", type=float, default=5.0, help="LM training time (the cosine ends there)")
    p.add_argument("--text-steps", type=int, default=20_000, help="at most this many LM steps")
    p.add_argument("--emoji-epochs", type=int, default=None, help="override the gpu128 preset's epochs")
    p.add_argument("--only", choices=["text", "emoji"], help="one of the two models")
    p.add_argument("--keep", action="store_true", help="--smoke: keep the temp dir")
    a = p.parse_args(argv)
    py = sys.executable
    device = a.device or ("cpu" if a.smoke else "cuda")
    a.threads = a.threads or (1 if a.smoke else 8)
    tmp = tempfile.mkdtemp(prefix="orrery-gpu-smoke-") if a.smoke and not a.work else None
    work = a.work or tmp or os.path.join(HERE, "work")
    os.makedirs(work, exist_ok=True)
    packs = os.path.join(work, "packs")
    t0 = time.time()

    def log(msg):
        print(f"[gpu {time.strftime('%H:%M:%S')} +{time.time() - t0:6.1f}s] {msg}", flush=True)

    if device == "cuda" and a.phase != "pack":
        import torch
        if not torch.cuda.is_available():
            raise SystemExit(f"no CUDA device for {py} (torch {torch.__version__}); --smoke runs on the CPU")
        log(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    report_path = os.path.join(work, "gpu_run.json")
    report = json.load(open(report_path)) if os.path.exists(report_path) else {}
    report.setdefault("runs", []).append({"phase": a.phase, "smoke": a.smoke, "device": device,
                                          "started": time.strftime("%Y-%m-%dT%H:%M:%S")})
    timings = report["runs"][-1]["seconds"] = {}

    text_work, text_pack = os.path.join(work, "text"), os.path.join(packs, "text")
    lm_shape = TEXT_SMOKE if a.smoke else TEXT_GPU
    if a.only in (None, "text") and a.phase in ("all", "train"):
        steps = 20 if a.smoke else a.text_steps
        cmd = [py, os.path.join(TEXT, "train_big.py"), "--work", text_work, "--device", device,
               "--threads", str(a.threads), "--schedule", "cosine", "--steps", str(steps), "--write-lm",
               "--eval-minutes", "0.5" if a.smoke else "1", "--ckpt-minutes", "2", "--snapshot-minutes", "1000",
               "--log-every", "5" if a.smoke else "100", "--eval-windows", "4" if a.smoke else "64",
               *flags(lm_shape)]
        if a.smoke:
            cmd.append("--smoke")
        else:
            cmd += ["--max-minutes", str(a.text_minutes)]
        timings["text_lm"] = run(cmd, log)
    if a.only in (None, "emoji") and a.phase in ("all", "train"):
        cmd = [py, os.path.join(EMOJI, "recipe.py"), "--device", device, "--stages", "data,vae",
               "--work", os.path.join(work, "emoji"), "--out", os.path.join(packs, "emoji")]
        cmd += ["--smoke", "--size", "128"] if a.smoke else ["--preset", "gpu128"]
        if a.emoji_epochs:
            cmd += ["--epochs", str(a.emoji_epochs)]
        timings["emoji_vae"] = run(cmd, log)

    if a.only in (None, "text") and a.phase in ("all", "pack"):
        os.makedirs(text_pack, exist_ok=True)
        for f in ("tokenizer.json", "tokenizer_check.json"):  # the shipped tokenizer, which train_big.py used
            shutil.copy(os.path.join(SHIPPED_TEXT, f), os.path.join(text_pack, f))
        shape = {k: lm_shape[k] for k in ("d_model", "n_layers", "n_heads", "context")}
        cmd = [py, os.path.join(TEXT, "recipe.py"), "--work", text_work, "--out", text_pack,
               "--device", device if device != "cuda" or cuda_available() else "cpu", "--threads", str(a.threads),
               "--stages", "sae,figures,export,pack,index", "--vocab", "4096", *flags(shape),
               *flags(SAE_SMOKE if a.smoke else SAE_GPU)]
        timings["text_pack"] = run(cmd, log)
    if a.only in (None, "emoji") and a.phase in ("all", "pack"):
        cmd = [py, os.path.join(EMOJI, "recipe.py"), "--stages", "pack,index",
               "--work", os.path.join(work, "emoji"), "--out", os.path.join(packs, "emoji")]
        cmd += ["--smoke", "--size", "128"] if a.smoke else ["--preset", "gpu128"]
        if a.emoji_epochs:
            cmd += ["--epochs", str(a.emoji_epochs)]
        timings["emoji_pack"] = run(cmd, log)

    report["runs"][-1]["total_seconds"] = round(time.time() - t0, 1)
    for name in ("text", "emoji"):
        m = os.path.join(packs, name, "metrics.json")
        if os.path.exists(m):
            report[name] = summary(name, json.load(open(m)))
    json.dump(report, open(report_path, "w"), indent=1)
    log("timings: " + json.dumps({k: round(v, 1) for k, v in timings.items()}))
    for name in ("text", "emoji"):
        if name in report:
            log(f"{name}: " + json.dumps(report[name]))
    if tmp and not a.keep:
        shutil.rmtree(tmp)
        log("smoke: ok (temp dir removed)")


def cuda_available() -> bool:
    import torch
    return torch.cuda.is_available()


def summary(name: str, m: dict) -> dict:
    """The figures the packs are judged by (models/README.md)."""
    if name == "text":
        lm = m.get("lm", {})
        return {k: lm.get(k) for k in ("parameters", "val_loss", "bigram_loss", "tokens_seen")} | {
            "reduction_vs_bigram": (1 - lm["val_loss"] / lm["bigram_loss"]) if lm.get("bigram_loss") else None,
            "total_bytes": m.get("total_bytes")}
    rec = m.get("reconstruction", {}).get("val", {})
    return {"psnr_db": rec.get("psnr_db"), "ssim": rec.get("ssim"), "params": m.get("vae", {}).get("params")}


if __name__ == "__main__":
    main()
