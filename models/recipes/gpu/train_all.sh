#!/usr/bin/env bash
# The GPU path (models/recipes/gpu/train_all.py): the 40M-parameter text LM on the expanded corpus
# and the 128-px emoji VAE on one CUDA GPU, then their packs. PYTHON names a python with CUDA torch
# (default python3); --smoke runs every step with tiny sizes on the CPU (Debian's /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/../../.."
py="${PYTHON:-python3}"
for a in "$@"; do [ "$a" = "--smoke" ] && py="${PYTHON:-/usr/bin/python3}"; done
exec "$py" models/recipes/gpu/train_all.py "$@"
