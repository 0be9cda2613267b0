"""The stage runner every recipe uses: stages run in order, each skipped when it is up to date,
and long stages resume from their last checkpoint.

A stage names its inputs (files or folders: source data, earlier stages' outputs), its outputs
and its params (the settings it depends on). Its key is the SHA-256 of its params and its
inputs' hashes. After a stage finishes, the runner records its key and its outputs' hashes in
`<work>/stages.json`; on the next run the stage is skipped when its key is the same and every
output still has the hash recorded for it (by this stage or a later one that rewrote it), so
a changed input, setting or output re-runs it, and so the stages after it whose inputs changed.

A long stage asks `ctx.checkpoint` for its last saved state and saves a new one now and then
(written whole then renamed, tagged with the stage's key): a run killed mid-stage resumes from
there, and a checkpoint written under another key (the inputs changed) is ignored.
Provenance (Debian package versions, input hashes) comes from `runner.provenance()`, which a
recipe's pack stage writes into metrics.json.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Callable

from common import provenance as prov

STATE_FILE = "stages.json"


@dataclass
class Stage:
    name: str
    run: Callable[["StageContext"], None]
    inputs: list[str] = field(default_factory=list)      # files or folders the stage reads
    outputs: list[str] = field(default_factory=list)     # files or folders it writes
    params: dict = field(default_factory=dict)           # settings it depends on (JSON-able)
    always: bool = False                                  # never skipped (e.g. a check)


class Checkpoint:
    """One stage's resumable state: load() gives the last saved object (or None), save()
    replaces it atomically. Objects go through torch.save (tensors, numpy, RNG states)."""

    def __init__(self, path: str, key: str, log=print):
        self.path, self.key, self.log = path, key, log

    def load(self):
        if not os.path.exists(self.path):
            return None
        import torch
        data = torch.load(self.path, map_location="cpu")
        if not isinstance(data, dict) or data.get("stage_key") != self.key:
            self.log(f"checkpoint {os.path.basename(self.path)}: written for other inputs or settings, ignored")
            return None
        return data["state"]

    def save(self, state) -> None:
        import torch
        torch.save({"stage_key": self.key, "state": state, "saved_at": time.time()}, self.path + ".tmp")
        os.replace(self.path + ".tmp", self.path)

    def clear(self) -> None:
        if os.path.exists(self.path):
            os.remove(self.path)


@dataclass
class StageContext:
    name: str
    key: str
    work: str
    checkpoint: Checkpoint
    log: Callable


class StageRunner:
    def __init__(self, work: str, stages: list[Stage], log=print, root: str | None = None,
                 out: str | None = None):
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names repeat: {names}")
        self.work, self.stages, self.log, self.root = work, stages, log, root
        self.out = out  # the pack folder: its files are labelled "pack/…", never by machine path
        os.makedirs(work, exist_ok=True)
        self.state_path = os.path.join(work, STATE_FILE)
        self.state = {"stages": {}, "files": {}, "hash_cache": {}}
        if os.path.exists(self.state_path):
            with open(self.state_path, encoding="utf-8") as fh:
                self.state.update(json.load(fh))
        self.ran: list[str] = []
        self.skipped: list[str] = []

    # ------------------------------------------------------------------------------ hashing
    def _hash(self, path: str) -> str | None:
        return prov.sha256_path(path, self.state["hash_cache"])

    def key(self, stage: Stage) -> tuple[str, dict]:
        inputs = {self._label(p): self._hash(p) for p in stage.inputs}
        missing = [p for p, h in inputs.items() if h is None]
        if missing:
            raise FileNotFoundError(f"stage {stage.name}: input missing: {', '.join(missing)}")
        blob = json.dumps({"params": stage.params, "inputs": inputs}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest(), inputs

    def _label(self, path: str) -> str:
        a = os.path.abspath(path)
        if self.out and a.startswith(os.path.abspath(self.out) + os.sep):
            return "pack/" + os.path.relpath(a, self.out).replace(os.sep, "/")
        for base in (self.work, self.root):
            if base and a.startswith(os.path.abspath(base) + os.sep):
                return os.path.relpath(a, base).replace(os.sep, "/")
        return a

    def up_to_date(self, stage: Stage, key: str) -> bool:
        rec = self.state["stages"].get(stage.name)
        if stage.always or not rec or rec.get("key") != key:
            return False
        for p in stage.outputs:
            h = self._hash(p)
            if h is None or h != self.state["files"].get(os.path.abspath(p)):
                return False
        return True

    # ------------------------------------------------------------------------------ running
    def run(self, only: list[str] | None = None, force: list[str] | None = None) -> None:
        """Runs the stages in order (only: just these names; force: re-run these even when up
        to date). A stage that raises leaves no record, so the next run runs it again."""
        known = {s.name for s in self.stages}
        for n in (only or []) + (force or []):
            if n not in known:
                raise SystemExit(f"unknown stage {n!r}; stages: {', '.join(s.name for s in self.stages)}")
        for stage in self.stages:
            if only and stage.name not in only:
                continue
            key, inputs = self.key(stage)
            if not (force and stage.name in force) and self.up_to_date(stage, key):
                self.log(f"== {stage.name}: up to date, skipped")
                self.skipped.append(stage.name)
                continue
            self.log(f"== {stage.name}")
            t = time.time()
            ck = Checkpoint(os.path.join(self.work, f"{stage.name}.ckpt.pt"), key, self.log)
            stage.run(StageContext(stage.name, key, self.work, ck, self.log))
            missing = [p for p in stage.outputs if not os.path.exists(p)]
            if missing:
                raise RuntimeError(f"stage {stage.name} did not write {', '.join(missing)}")
            seconds = time.time() - t
            for p in stage.outputs:
                self.state["files"][os.path.abspath(p)] = self._hash(p)
            self.state["stages"][stage.name] = {"key": key, "inputs": inputs, "seconds": round(seconds, 1),
                                                "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            self._save()
            ck.clear()
            self.ran.append(stage.name)
            self.log(f"== {stage.name} done in {seconds:.1f}s")

    def _save(self) -> None:
        with open(self.state_path + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(self.state, fh, indent=1)
        os.replace(self.state_path + ".tmp", self.state_path)

    # --------------------------------------------------------------------------- provenance
    def provenance(self, sources: dict[str, str], packages: list[str]) -> dict:
        """The provenance object for metrics.json: the source data files' hashes and Debian
        packages (provenance.record), plus each stage's key, input hashes and time."""
        out = prov.record(sources, packages, self.state["hash_cache"], self.root)
        out["stages"] = {n: {"key": r["key"], "inputs": r["inputs"], "seconds": r["seconds"]}
                         for n, r in self.state["stages"].items() if n in {s.name for s in self.stages}}
        self._save()
        return out
