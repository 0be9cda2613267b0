"""Shared pieces of the model recipes (models/recipes/*/recipe.py), written once: the stage
runner with resume and provenance (stages.py, provenance.py), safetensors (safetensors.py),
the TopK SAE and its trainer (topk_sae.py), SAELens folders (saelens.py), metadata AUC
(auc.py), fp16 export (fp16.py), the onnxruntime-node parity run (parity.py), README sections
(readme.py), SSIM (ssim.py) and the shipped index build (index.py). A recipe puts the recipes folder on
sys.path and imports `common.<module>`."""
