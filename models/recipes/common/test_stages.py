"""Unit tests of the stage runner (resume, re-run on change, checkpoints) and of the provenance
written into metrics.json. Run by scripts/recipes-smoke.sh:
  /usr/bin/python3 -m unittest discover -s models/recipes/common -t models/recipes
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import unittest

from common.stages import Stage, StageRunner


class Interrupted(Exception):
    pass


class StageRunnerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="stages-test-")
        self.work = os.path.join(self.dir, "work")
        self.src = os.path.join(self.dir, "source.txt")
        with open(self.src, "w") as fh:
            fh.write("three words here\n")
        self.calls: list[str] = []
        self.logs: list[str] = []

    def tearDown(self):
        shutil.rmtree(self.dir)

    def w(self, name):
        return os.path.join(self.work, name)

    def stages(self, scale=1):
        def count(ctx):
            self.calls.append("count")
            with open(self.src) as fh:
                n = len(fh.read().split()) * scale
            with open(self.w("count.txt"), "w") as fh:
                fh.write(str(n))

        def double(ctx):
            self.calls.append("double")
            with open(self.w("count.txt")) as fh:
                n = int(fh.read())
            with open(self.w("double.txt"), "w") as fh:
                fh.write(str(2 * n))

        return [Stage("count", count, inputs=[self.src], outputs=[self.w("count.txt")], params={"scale": scale}),
                Stage("double", double, inputs=[self.w("count.txt")], outputs=[self.w("double.txt")])]

    def runner(self, stages):
        return StageRunner(self.work, stages, log=self.logs.append)

    def test_a_finished_stage_is_skipped_on_the_next_run(self):
        self.runner(self.stages()).run()
        self.assertEqual(self.calls, ["count", "double"])
        r = self.runner(self.stages())
        r.run()
        self.assertEqual(self.calls, ["count", "double"])
        self.assertEqual(r.skipped, ["count", "double"])
        with open(self.w("double.txt")) as fh:
            self.assertEqual(fh.read(), "6")

    def test_a_changed_input_reruns_the_stage_and_those_after_it(self):
        self.runner(self.stages()).run()
        with open(self.src, "w") as fh:
            fh.write("now there are five words\n")
        self.runner(self.stages()).run()
        self.assertEqual(self.calls, ["count", "double", "count", "double"])
        with open(self.w("double.txt")) as fh:
            self.assertEqual(fh.read(), "10")

    def test_an_input_rewritten_with_the_same_bytes_reruns_nothing(self):
        self.runner(self.stages()).run()
        with open(self.src, "w") as fh:
            fh.write("three words here\n")  # new mtime, same content
        self.runner(self.stages()).run()
        self.assertEqual(self.calls, ["count", "double"])

    def test_a_changed_setting_reruns_the_stage_and_not_an_unchanged_later_one(self):
        self.runner(self.stages()).run()
        os.remove(self.src)
        with open(self.src, "w") as fh:
            fh.write("three words here\n")
        self.runner(self.stages(scale=1)).run()
        self.assertEqual(self.calls, ["count", "double"])
        self.runner(self.stages(scale=2)).run()
        self.assertEqual(self.calls, ["count", "double", "count", "double"])

    def test_a_changed_or_missing_output_reruns_its_stage(self):
        self.runner(self.stages()).run()
        with open(self.w("double.txt"), "w") as fh:
            fh.write("tampered")
        self.runner(self.stages()).run()
        self.assertEqual(self.calls, ["count", "double", "double"])
        os.remove(self.w("count.txt"))
        self.runner(self.stages()).run()
        # count writes the same bytes again, so double's input hash is unchanged: it stays skipped
        self.assertEqual(self.calls, ["count", "double", "double", "count"])

    def test_a_missing_input_is_a_named_error(self):
        os.remove(self.src)
        with self.assertRaisesRegex(FileNotFoundError, "stage count: input missing"):
            self.runner(self.stages()).run()

    def test_an_interrupted_checkpointed_stage_resumes_from_its_last_checkpoint(self):
        done_steps: list[int] = []

        def train(interrupt_at):
            def run(ctx):
                state = ctx.checkpoint.load() or {"step": 0, "total": 0}
                for step in range(state["step"], 10):
                    if step == interrupt_at:
                        raise Interrupted()
                    done_steps.append(step)
                    state = {"step": step + 1, "total": state["total"] + step}
                    ctx.checkpoint.save(state)
                with open(self.w("model.txt"), "w") as fh:
                    fh.write(str(state["total"]))
            return [Stage("train", run, inputs=[self.src], outputs=[self.w("model.txt")], params={"steps": 10})]

        with self.assertRaises(Interrupted):
            self.runner(train(interrupt_at=4)).run()
        self.assertEqual(done_steps, [0, 1, 2, 3])
        self.assertTrue(os.path.exists(self.w("train.ckpt.pt")))
        r = self.runner(train(interrupt_at=None))
        r.run()
        self.assertEqual(done_steps, list(range(10)))  # steps 4..9 only on the second run
        with open(self.w("model.txt")) as fh:
            self.assertEqual(fh.read(), str(sum(range(10))))
        self.assertFalse(os.path.exists(self.w("train.ckpt.pt")), "a finished stage drops its checkpoint")
        self.assertEqual(r.ran, ["train"])

    def test_a_checkpoint_written_for_other_inputs_is_ignored(self):
        seen = []

        def run(ctx):
            seen.append(ctx.checkpoint.load())
            ctx.checkpoint.save({"step": 3})
            raise Interrupted()

        stage = lambda: [Stage("train", run, inputs=[self.src], outputs=[self.w("model.txt")])]  # noqa: E731
        with self.assertRaises(Interrupted):
            self.runner(stage()).run()
        with open(self.src, "w") as fh:
            fh.write("other data\n")
        with self.assertRaises(Interrupted):
            self.runner(stage()).run()
        self.assertEqual(seen, [None, None])

    def test_metrics_json_records_provenance(self):
        pack = os.path.join(self.dir, "pack")
        metrics = os.path.join(pack, "metrics.json")
        holder = {}

        def write_pack(ctx):
            os.makedirs(pack, exist_ok=True)
            with open(metrics, "w") as fh:
                json.dump({"fve": 0.9, "provenance": holder["runner"].provenance({"corpus": self.src}, ["dpkg"])}, fh)

        stages = self.stages() + [Stage("pack", write_pack, inputs=[self.w("double.txt")], outputs=[metrics])]
        holder["runner"] = self.runner(stages)
        holder["runner"].run()
        with open(metrics) as fh:
            p = json.load(fh)["provenance"]
        with open(self.src, "rb") as fh:
            self.assertEqual(p["inputs"]["corpus"]["sha256"], hashlib.sha256(fh.read()).hexdigest())
        pk = p["debian_packages"]
        self.assertIn("python3-torch", pk)
        if shutil.which("dpkg-query"):
            self.assertRegex(pk["dpkg"] or "", r"^\d", "dpkg's own version from dpkg-query")
            self.assertRegex(pk["python3-torch"] or "", r"^1\.13", "Debian's torch 1.13")
        self.assertEqual(set(p["stages"]), {"count", "double"})  # pack itself is still running
        self.assertEqual(p["stages"]["double"]["inputs"], {"count.txt": hashlib.sha256(b"3").hexdigest()})


if __name__ == "__main__":
    unittest.main()
