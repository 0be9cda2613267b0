"""SAELens's on-disk format for a TopK SAE: cfg.json + sae_weights.safetensors (+ optional
sparsity.safetensors of log10 firing densities). The cfg carries both SAELens 6 names
(`architecture`, `k`, `hook_name`) and the older ones (`activation_fn_str`,
`activation_fn_kwargs.k`), so either reader takes it (models/PACK_FORMAT.md)."""
from __future__ import annotations

import json
import os

import numpy as np

from common import safetensors
from common.topk_sae import TopKSAE


def topk_cfg(*, d_in: int, d_sae: int, k: int, hook: str, model_name: str, dataset: str, context_size: int,
             hook_layer: int = 0, prepend_bos: bool = False, dtype: str = "float32", trained_by: str = "") -> dict:
    meta = {"model_name": model_name, "hook_name": hook, "hook_head_index": None, "context_size": context_size,
            "prepend_bos": prepend_bos, "dataset_path": dataset, "sae_lens_training_version": None}
    if trained_by:
        meta["trained_by"] = trained_by
    return {
        "architecture": "topk",
        "d_in": d_in,
        "d_sae": d_sae,
        "k": k,
        "activation_fn_str": "topk",
        "activation_fn_kwargs": {"k": k},
        "dtype": dtype,
        "device": "cpu",
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
        "reshape_activations": "none",
        "finetuning_scaling_factor": False,
        "hook_name": hook,
        "hook_layer": hook_layer,
        "hook_head_index": None,
        "model_name": model_name,
        "context_size": context_size,
        "prepend_bos": prepend_bos,
        "dataset_path": dataset,
        "metadata": meta,
    }


def write(folder: str, sae: TopKSAE, cfg: dict, density: np.ndarray | None = None, weights_dtype=np.float32) -> None:
    """Writes the SAE's weights (float32, or float16 to halve the file; cfg's `dtype` is what
    SAELens computes in, float32), cfg.json and, when given, sparsity.safetensors (log10 of
    each feature's firing density)."""
    os.makedirs(folder, exist_ok=True)
    safetensors.save_file(sae.weights(weights_dtype), os.path.join(folder, "sae_weights.safetensors"), {"format": "pt"})
    if density is not None:
        write_sparsity(folder, density)
    with open(os.path.join(folder, "cfg.json"), "w") as fh:
        json.dump(cfg, fh, indent=2)
        fh.write("\n")


def write_sparsity(folder: str, density: np.ndarray) -> None:
    log_density = np.log10(np.maximum(np.asarray(density, np.float64), 1e-10)).astype(np.float32)
    safetensors.save_file({"sparsity": log_density}, os.path.join(folder, "sparsity.safetensors"), {"format": "pt"})


def load(folder: str) -> TopKSAE:
    """A TopK SAE folder as written above (or by SAELens), weights as float32."""
    with open(os.path.join(folder, "cfg.json")) as fh:
        cfg = json.load(fh)
    k = cfg.get("k") or (cfg.get("activation_fn_kwargs") or {}).get("k")
    if cfg.get("architecture", cfg.get("activation_fn_str")) != "topk" or not k:
        raise ValueError(f"{folder}/cfg.json: not a TopK SAE")
    t = safetensors.load_file(os.path.join(folder, "sae_weights.safetensors"))
    if t["W_enc"].shape != (cfg["d_in"], cfg["d_sae"]) or t["W_dec"].shape != (cfg["d_sae"], cfg["d_in"]):
        raise ValueError(f"{folder}: W_enc {t['W_enc'].shape} / W_dec {t['W_dec'].shape} disagree with cfg.json")
    return TopKSAE.from_weights(t, int(k))
