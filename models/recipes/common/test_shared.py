"""Unit tests of the shared recipe pieces: safetensors round trip, AUC against a brute-force
count, a TopK SAE trained, written as SAELens and read back, README section replacement, SSIM
against a window-by-window computation."""
from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import unittest

import numpy as np
import torch

from common import auc, readme, saelens, safetensors
from common.ssim import ssim
from common.topk_sae import TopKTrain, evaluate, train_topk


class SharedPiecesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="recipes-common-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_safetensors_round_trip_and_layout(self):
        t = {"b": np.arange(6, dtype=np.int64).reshape(2, 3), "a": np.array([1.5, -2], np.float16),
             "c": np.ones((3, 1), np.float32)}
        p = os.path.join(self.dir, "t.safetensors")
        safetensors.save_file(t, p, {"format": "pt"})
        back = safetensors.load_file(p)
        self.assertEqual(sorted(back), ["a", "b", "c"])
        for k in t:
            self.assertEqual(back[k].dtype, t[k].dtype)
            np.testing.assert_array_equal(back[k], t[k])
        with open(p, "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            header = json.loads(fh.read(n))
        self.assertEqual(n % 8, 0)
        self.assertEqual(header["a"]["data_offsets"], [0, 4])  # sorted by name
        self.assertEqual(header["__metadata__"], {"format": "pt"})
        with self.assertRaises(TypeError):
            safetensors.save_file({"x": np.zeros(2, np.float64)}, p)

    def test_auc_matches_a_pair_count_with_ties(self):
        rng = np.random.default_rng(0)
        scores = rng.integers(0, 4, size=(40, 5)).astype(np.float32)  # many ties
        labels = rng.random(40) < 0.3
        got = auc.auc_columns(scores, labels)
        for j in range(5):
            pos, neg = scores[labels, j], scores[~labels, j]
            want = np.mean([(p > q) + 0.5 * (p == q) for p in pos for q in neg])
            self.assertAlmostEqual(got[j], want, places=12)
            self.assertAlmostEqual(auc.auc(scores[:, j], labels), want, places=12)
        self.assertTrue(np.isnan(auc.auc(scores[:, 0], np.zeros(40, bool))))

    def test_topk_sae_trains_writes_saelens_and_reads_back(self):
        g = torch.Generator().manual_seed(0)
        dirs = torch.randn(16, 8, generator=g)
        codes = torch.rand(2000, 16, generator=g) * (torch.rand(2000, 16, generator=g) < 0.15)
        x = codes @ dirs + 0.3
        for init in ("random", "data"):
            sae, info = train_topk(x, TopKTrain(d_sae=32, k=4, steps=300, batch=256, lr=3e-3, dead_after=2000,
                                                init=init, scale_inputs=init == "data"), seed=1, log=lambda *_: None)
            m = evaluate(sae, x)
            self.assertGreater(m["fve"], 0.8, init)
            self.assertLessEqual(m["mean_l0"], 4.0)
            folder = os.path.join(self.dir, "sae-" + init)
            cfg = saelens.topk_cfg(d_in=8, d_sae=32, k=4, hook="latent", model_name="t", dataset="d", context_size=1)
            saelens.write(folder, sae, cfg, m["density"])
            back = saelens.load(folder)
            with torch.no_grad():
                np.testing.assert_allclose(back.encode(x[:50]).numpy(), sae.encode(x[:50]).numpy(), atol=1e-5)
            sp = safetensors.load_file(os.path.join(folder, "sparsity.safetensors"))["sparsity"]
            self.assertEqual(sp.shape, (32,))
            with open(os.path.join(folder, "cfg.json")) as fh:
                c = json.load(fh)
            self.assertEqual((c["architecture"], c["k"], c["activation_fn_kwargs"]["k"]), ("topk", 4, 4))

    def test_ssim_matches_a_window_by_window_count(self):
        g = torch.Generator().manual_seed(3)
        a = torch.rand(2, 3, 14, 13, generator=g)
        b = (a + 0.2 * torch.randn(a.shape, generator=g)).clamp(0, 1)
        c = torch.arange(11, dtype=torch.float64) - 5
        w = torch.exp(-c ** 2 / 4.5)
        w = (w[:, None] * w[None, :]) / w.sum() ** 2
        want = []
        for n in range(2):
            vals = []
            for ch in range(3):
                for y in range(14 - 10):
                    for x in range(13 - 10):
                        pa, pb = (t[n, ch, y:y + 11, x:x + 11].double() for t in (a, b))
                        ma, mb = (w * pa).sum(), (w * pb).sum()
                        va, vb = (w * pa * pa).sum() - ma ** 2, (w * pb * pb).sum() - mb ** 2
                        cov = (w * pa * pb).sum() - ma * mb
                        vals.append(((2 * ma * mb + 1e-4) * (2 * cov + 9e-4)) / ((ma ** 2 + mb ** 2 + 1e-4) * (va + vb + 9e-4)))
            want.append(float(torch.stack(vals).mean()))
        got = ssim(a, b)
        np.testing.assert_allclose(got.numpy(), want, atol=1e-5)
        self.assertLess(float(got.max()), 0.9)
        np.testing.assert_allclose(ssim(a, a).numpy(), [1.0, 1.0], atol=1e-6)
        per_channel = torch.stack([ssim(a[:, i:i + 1], b[:, i:i + 1]) for i in range(3)]).mean(0)  # grey glyphs: C = 1
        np.testing.assert_allclose(per_channel.numpy(), got.numpy(), atol=1e-6)

    def test_readme_section_replaced_in_place(self):
        text = "# Packs\n\n## Text pack\nold\n\n## Emoji pack\nkeep\n"
        out = readme.replace_section(text, "## Text pack\nnew", heading="## Text pack")
        self.assertEqual(out, "# Packs\n\n## Text pack\nnew\n\n## Emoji pack\nkeep\n")
        text = "## Text pack\nold\n\n<!-- x:begin -->\n## X\nkept\n<!-- x:end -->\n"
        out = readme.replace_section(text, "## Text pack\nnew", heading="## Text pack")
        self.assertEqual(out, "## Text pack\nnew\n\n<!-- x:begin -->\n## X\nkept\n<!-- x:end -->\n")
        marked = "a\n<!-- x:begin -->\nold\n<!-- x:end -->\nb\n"
        out = readme.replace_section(marked, "new", markers=("<!-- x:begin -->", "<!-- x:end -->"))
        self.assertEqual(out, "a\n<!-- x:begin -->\nnew\n<!-- x:end -->\nb\n")


if __name__ == "__main__":
    unittest.main()
