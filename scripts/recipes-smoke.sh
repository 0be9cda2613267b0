#!/usr/bin/env bash
# Runs the recipe toolkit's unit tests and every model recipe's --smoke mode (all stages on a
# tiny slice, in a temp dir, the feature index build included) so the recipes cannot rot.
# Needs Debian's python3-torch (see .ci/run for the packages).
set -euo pipefail
cd "$(dirname "$0")/.."
py=/usr/bin/python3
if ! "$py" -c 'import torch' 2>/dev/null; then
  echo "recipes smoke: Debian's python3-torch is not installed (apt-get install python3-torch libopenblas0-pthread)" >&2
  exit 1
fi
passed=0
failed=0
# Unit tests: the shared toolkit (stage runner: skip, re-run on change, checkpoint resume,
# provenance; safetensors, AUC, TopK SAE + SAELens, README sections) and the emoji VAE's resume.
echo "-- unit tests: models/recipes/common, models/recipes/emoji"
if PYTHONDONTWRITEBYTECODE=1 "$py" -m unittest discover -s models/recipes/common -t models/recipes &&
  PYTHONDONTWRITEBYTECODE=1 "$py" -m unittest discover -s models/recipes/emoji -t models/recipes/emoji; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "-- recipe unit tests FAILED" >&2
fi
for recipe in text emoji glyphs hf; do
  script="models/recipes/$recipe/recipe.py"
  [ -f "$script" ] || { echo "recipes smoke: $script is missing" >&2; failed=$((failed + 1)); continue; }
  echo "-- $recipe --smoke"
  start=$(date +%s)
  if PYTHONDONTWRITEBYTECODE=1 "$py" "$script" --smoke; then
    passed=$((passed + 1))
    echo "-- $recipe smoke passed in $(( $(date +%s) - start ))s"
  else
    failed=$((failed + 1))
    echo "-- $recipe smoke FAILED" >&2
  fi
done
# The expanded text corpus and the long LM run: train_big.py on a slice, killed-and-restarted
# (a second run with more steps resumes from the checkpoint), then eval_big.py on that checkpoint.
big=$(mktemp -d)
tiny=(--smoke --d-model 32 --n-layers 2 --n-heads 2 --context 64 --batch 4 --log-every 5 --eval-windows 4)
echo "-- text train_big.py --smoke, resumed, eval_big.py"
if "$py" models/recipes/text/train_big.py --work "$big" "${tiny[@]}" --steps 10 >/dev/null &&
  "$py" models/recipes/text/train_big.py --work "$big" "${tiny[@]}" --steps 20 | grep "resumed at step 10" &&
  "$py" models/recipes/text/eval_big.py --work "$big" --max-windows 8; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "-- text train_big/eval_big FAILED" >&2
fi
# A pack from one of that run's snapshots (pack_snapshot.py: lm.pt from ckpt-<step>.pt, then the
# recipe's sae, figures, export, pack and index stages), the weights carried over unchanged.
echo "-- text pack_snapshot.py on the step-20 snapshot"
same='import sys, torch; a = torch.load(sys.argv[1]); b = torch.load(sys.argv[2])
sys.exit(0 if a["snapshot"]["step"] == 20 and all(torch.equal(a["model"][k], v.float()) for k, v in b["model"].items()) else 1)'
if "$py" models/recipes/text/pack_snapshot.py --snapshot "$big/ckpt-00000020.pt" --work "$big/pack-work" \
  --out "$big/pack" --pack-id orrery-text-snapshot-smoke --smoke >/dev/null &&
  "$py" -c "$same" "$big/pack-work/lm.pt" "$big/ckpt-00000020.pt" &&
  grep -q '"id": "orrery-text-snapshot-smoke"' "$big/pack/manifest.json" && [ -f "$big/pack/features.sqlite.br" ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "-- text pack_snapshot FAILED" >&2
fi
# SAEs at more layers for a pack, from its own float32 graphs (add_hooks.py: lm.pt from the
# graphs, then the same stages with --hooks 0,1): the LM it read gives the logits the fixture's
# torch reference recorded, and the new graphs pass the export's parity check.
echo "-- text add_hooks.py on the text-tiny fixture"
same_lm='import json, sys, numpy as np, torch
sys.path[:0] = ["models/recipes/text", "models/recipes"]
from export import step, empty_past
from lm_train import load_lm
model, _ = load_lm(sys.argv[1])
c = json.load(open(sys.argv[2]))["cases"][0]
t = lambda d: torch.tensor(np.array(d["data"], dtype=np.float32).reshape(d["dims"]))
out = step(model, t(c["inputs"]["input_ids"]).long(), t(c["inputs"]["position_ids"]).long(),
           empty_past(model.cfg, 2), {"steering": t(c["inputs"]["steering"])}, [1])
sys.exit(0 if float((out["outputs"]["logits"] - t(c["outputs"]["logits"])).abs().max()) < 1e-4 else 1)'
if "$py" models/recipes/text/add_hooks.py --pack tests/fixtures/packs/text-tiny --hooks 0,1 --work "$big/hooks-work" \
  --out "$big/hooks-pack" --smoke >/dev/null &&
  "$py" -c "$same_lm" "$big/hooks-work" tests/fixtures/packs/text-tiny/reference.json &&
  grep -q '"parity_checked": true' "$big/hooks-work/parity_result.json" &&
  grep -q '"id": "res0-64"' "$big/hooks-pack/manifest.json" && grep -q '"id": "res1-64"' "$big/hooks-pack/manifest.json" &&
  [ -f "$big/hooks-pack/middle1.onnx" ] && [ -f "$big/hooks-pack/features.sqlite.br" ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "-- text add_hooks FAILED" >&2
fi
rm -rf "$big"
# The shipped ONNX graphs still match the torch outputs their recipes recorded.
check() {
  echo "-- parity: $*"
  if node "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "-- parity FAILED: $*" >&2; fi
}
check models/recipes/text/check_parity.mjs tests/fixtures/packs/text-tiny tests/fixtures/packs/text-tiny/reference.json
# The fixture's split graphs give what its single graph (before the split, same weights) gave.
check models/recipes/text/check_relayout.mjs tests/fixtures/text-legacy/model.onnx tests/fixtures/packs/text-tiny
# The HF-layout fixtures' decoders (optimum I/O, external data) and tokenizers match their torch references.
check models/recipes/hf/check_parity.mjs tests/fixtures/hf/gpt2-tiny
check models/recipes/hf/check_parity.mjs tests/fixtures/hf/llama-tiny
[ -f models/emoji/manifest.json ] && check models/recipes/emoji/parity.mjs models/emoji models/recipes/emoji/parity_reference.json
echo "recipes: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
