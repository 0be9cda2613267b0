"""The last stage of every recipe: build the pack's shipped feature index
(`features.sqlite.br`) with the app's own index builder (`main/index/cli.ts build`, the command
of models/PACK_FORMAT.md) and name it in the manifest's `index`."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
INDEX_FILE = "features.sqlite.br"


def build(pack_dir: str, log=print, thumbnails: bool = True, threads: int = 1) -> str:
    """Builds (or resumes building) pack_dir/features.sqlite.br and writes `"index"` into the
    manifest. Image and typeface packs pass thumbnails=False: the app cuts thumbnails from the
    pack's examples sheet. Returns the index path."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node not found: the index build needs node (npm ci at the repository root)")
    out = os.path.join(pack_dir, INDEX_FILE)
    man_path = os.path.join(pack_dir, "manifest.json")
    with open(man_path, encoding="utf-8") as fh:
        manifest = json.load(fh)
    if manifest.get("index") and not os.path.exists(os.path.join(pack_dir, manifest["index"])):
        manifest.pop("index")  # a manifest naming a missing index does not validate
        _write_manifest(man_path, manifest)
    cmd = [node, "--import", "tsx", os.path.join(REPO, "main", "index", "cli.ts"), "build",
           os.path.abspath(pack_dir), "--out", os.path.abspath(out), "--threads", str(threads)]
    if not thumbnails:
        cmd += ["--thumbnails", "no"]
    log("index: " + " ".join(os.path.relpath(c, REPO) if c.startswith(REPO) else c for c in cmd[1:]))
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    for summary in summaries(r.stdout):
        log(f"index: {summary.get('saeId')}: labels name {json.dumps(summary.get('labelCoverage'))}; "
            f"map agreement {json.dumps(summary.get('mapAgreement'))}")
    tail = [line for line in (r.stdout + r.stderr).replace("\r", "\n").splitlines() if line.strip()]
    for line in tail[-8:]:
        log("index: " + line)
    if r.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f"index build failed (exit {r.returncode}) for {pack_dir}")
    manifest["index"] = INDEX_FILE
    _write_manifest(man_path, manifest)
    return out


def summaries(stdout: str) -> list[dict]:
    """The JSON objects the build prints, one an SAE (label coverage, map agreement, timings)."""
    found, dec, i = [], json.JSONDecoder(), 0
    while (i := stdout.find("{", i)) >= 0:
        try:
            obj, end = dec.raw_decode(stdout, i)
        except ValueError:
            i += 1
            continue
        if isinstance(obj, dict) and "saeId" in obj:
            found.append(obj)
        i = end
    return found


def _write_manifest(path: str, manifest: dict) -> None:
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    os.replace(path + ".tmp", path)
