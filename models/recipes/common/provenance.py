"""Where a pack came from: the Debian packages (name and version from dpkg-query) of the
Python stack and of the data files, and the SHA-256 of every input file, as recorded in a
pack's metrics.json under `provenance`."""
from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys

# The Python stack every recipe runs on (Debian's packages, /usr/bin/python3).
STACK = ["python3", "python3-torch", "python3-numpy", "python3-onnx", "python3-pil", "libopenblas0-pthread"]


def sha256_file(path: str, cache: dict | None = None) -> str:
    """SHA-256 of a file; cache (a dict kept by the caller, e.g. in the runner's state) maps
    path -> [size, mtime_ns, hash] so unchanged files are not read again."""
    st = os.stat(path)
    key = os.path.abspath(path)
    if cache is not None:
        hit = cache.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    if cache is not None:
        cache[key] = [st.st_size, st.st_mtime_ns, digest]
    return digest


def files_under(path: str) -> list[str]:
    """path itself when a file; every file below it (sorted) when a folder; [] when absent."""
    if os.path.isfile(path):
        return [path]
    out = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        out += [os.path.join(root, f) for f in sorted(files)]
    return out


def sha256_path(path: str, cache: dict | None = None) -> str | None:
    """A file's hash, a folder's hash over its files' relative names and hashes, None when absent."""
    if not os.path.exists(path):
        return None
    if os.path.isfile(path):
        return sha256_file(path, cache)
    h = hashlib.sha256()
    for f in files_under(path):
        h.update(os.path.relpath(f, path).replace(os.sep, "/").encode() + b"\0" + sha256_file(f, cache).encode() + b"\n")
    return "dir:" + h.hexdigest()


def _dpkg(args: list[str]) -> str:
    try:
        return subprocess.run(["dpkg-query", *args], capture_output=True, text=True).stdout
    except FileNotFoundError:  # not a Debian system
        return ""


def owning_packages(paths: list[str]) -> list[str]:
    """The Debian packages that installed these files (dpkg-query -S), sorted."""
    found: set[str] = set()
    real = [os.path.realpath(p) for p in paths]
    for i in range(0, len(real), 200):
        for line in _dpkg(["-S", *real[i:i + 200]]).splitlines():
            if ": " in line:
                for name in line.split(": ", 1)[0].split(", "):
                    found.add(name.split(":")[0].strip())
    return sorted(found)


def package_versions(names: list[str]) -> dict:
    """name -> installed version (dpkg-query -W); a package not installed maps to None."""
    names = sorted(set(names))
    out = {n: None for n in names}
    if not names:
        return out
    text = _dpkg(["-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n", *names])
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] in out and parts[2].startswith("ii"):
            out[parts[0]] = parts[1]
    return out


def record(inputs: dict[str, str], packages: list[str], cache: dict | None = None, root: str | None = None) -> dict:
    """The `provenance` object: inputs (label -> path of a file or folder) with their SHA-256,
    the versions of `packages` plus the Python stack plus the packages owning the input files,
    and the interpreter. Paths are written relative to root (the repository) when inside it."""
    hashes, owned = {}, []
    for label, path in sorted(inputs.items()):
        hashes[label] = {"path": _rel(path, root), "sha256": sha256_path(path, cache)}
        if not root or not os.path.abspath(path).startswith(root + os.sep):
            owned += files_under(path)
    import numpy
    import torch
    return {
        "debian_packages": package_versions(STACK + list(packages) + owning_packages(owned)),
        "inputs": hashes,
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
    }


def _rel(path: str, root: str | None) -> str:
    a = os.path.abspath(path)
    if root and a.startswith(root + os.sep):
        return os.path.relpath(a, root).replace(os.sep, "/")
    return a
