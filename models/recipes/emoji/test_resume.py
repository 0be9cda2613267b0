"""The emoji VAE stage resumes from its checkpoint: a run interrupted during its second epoch
and run again from the checkpoint of the first (in a process whose RNG has moved on) ends with
the same weights, bit for bit, as a run that was never interrupted. Run by
scripts/recipes-smoke.sh (`/usr/bin/python3 -m unittest discover -s models/recipes/emoji`)."""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import unittest

import numpy as np
import torch

import recipe as emoji
from common.stages import Checkpoint


class Interrupted(Exception):
    pass


class VaeResumeTest(unittest.TestCase):
    def test_an_interrupted_vae_run_resumes_to_the_same_weights(self):
        torch.set_num_threads(1)
        tmp = tempfile.mkdtemp(prefix="emoji-resume-")
        self.addCleanup(shutil.rmtree, tmp)
        p = dataclasses.replace(emoji.PRESETS["smoke"], limit=16, epochs=3)
        d = emoji.load_dataset("", 0.1, 1234, p.limit)
        x = torch.from_numpy(d["images"]).permute(0, 3, 1, 2).float() / 255.0
        split = np.array(d["split"])
        tr, va = np.flatnonzero(split == "train"), np.flatnonzero(split == "val")
        quiet = lambda *a: None  # noqa: E731
        emoji.log = quiet
        whole, _ = emoji.train_vae(p, x[tr], x[va], 7, os.path.join(tmp, "a.pt"),
                                   Checkpoint(os.path.join(tmp, "a.ckpt"), "key", quiet))

        def interrupt_in_epoch_2(*a):
            if "vae epoch 2/3" in " ".join(map(str, a)):  # logged before epoch 2's checkpoint
                raise Interrupted()

        ck = Checkpoint(os.path.join(tmp, "b.ckpt"), "key", quiet)
        emoji.log = interrupt_in_epoch_2
        with self.assertRaises(Interrupted):
            emoji.train_vae(p, x[tr], x[va], 7, os.path.join(tmp, "b.pt"), ck)
        self.assertEqual(ck.load()["epochs_done"], 1)
        self.assertFalse(os.path.exists(os.path.join(tmp, "b.pt")))
        emoji.log = quiet
        torch.manual_seed(999)
        resumed, history = emoji.train_vae(p, x[tr], x[va], 7, os.path.join(tmp, "b.pt"), ck)
        self.assertEqual([h["epoch"] for h in history], [1, 2, 3])
        for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
            self.assertTrue(torch.equal(a, b), name)
        saved = torch.load(os.path.join(tmp, "b.pt"))
        self.assertEqual(saved["epochs_done"], 3)


if __name__ == "__main__":
    unittest.main()
