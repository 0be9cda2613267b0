"""Runs a recipe's onnxruntime-node parity script (`node <script> <pack> <reference>`), logs
its lines and fails loudly when it fails: the ONNX graphs must give what torch gave."""
from __future__ import annotations

import os
import shutil
import subprocess

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))


class ParityError(RuntimeError):
    pass


def run(script: str, pack_dir: str, reference: str, log=print) -> list[str]:
    """The script's output lines; ParityError when node is missing or the script exits non-zero."""
    node = shutil.which("node")
    if node is None:
        raise ParityError("node not found: the ONNX parity check needs node and onnxruntime-node")
    r = subprocess.run([node, script, pack_dir, reference], capture_output=True, text=True, cwd=REPO)
    lines = [line for line in (r.stdout + r.stderr).strip().splitlines() if line]
    for line in lines:
        log("parity: " + line)
    if r.returncode != 0:
        raise ParityError(f"ONNX parity check failed: node {os.path.basename(script)} exited {r.returncode}")
    return lines
