"""ONNX export of the glyph CVAE (fp16 weights inside, Casts to float32; float32 I/O) and the
reference inputs/outputs that parity.mjs checks with onnxruntime-node."""
from __future__ import annotations

import json
import os

import numpy as np
import torch
import torch.nn as nn

from common import parity
from common.fp16 import halfify
from model import GlyphCVAE


class EncoderExport(nn.Module):
    def __init__(self, enc, pos_half: bool):
        super().__init__()
        self.enc = enc
        dt = torch.float16 if pos_half else torch.float32
        self.register_buffer("pos_h", enc.pos.detach().to(dt).clone())

    def forward(self, glyphs):
        e = self.enc
        b, k, h, w = glyphs.shape
        x = e.cnn(glyphs.reshape(-1, 1, h, w))
        x = e.proj(x.reshape(x.shape[0], -1)).reshape(b, k, -1) + self.pos_h.float()
        out = e.head(x.mean(1))
        return e.norm(out[:, : e.style_dim])


class DecoderExport(nn.Module):
    def __init__(self, dec):
        super().__init__()
        self.dec = dec

    def forward(self, style, char_ids):
        return self.dec(style, char_ids)


def build_export_modules(model: GlyphCVAE, half: bool = True):
    enc = halfify(model.encoder, half)
    dec = halfify(model.decoder, half)
    return EncoderExport(enc, half).eval(), DecoderExport(dec).eval()


def export_onnx(model: GlyphCVAE, out_dir: str, ref_dir: str, enc_glyphs: np.ndarray,
                char_ids: np.ndarray, half: bool = True, log=print):
    """Writes encoder.onnx/decoder.onnx to out_dir and parity.json + .bin references to ref_dir.
    enc_glyphs: [B, K, 64, 64] float32 real glyphs; char_ids: [B2] int64."""
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(ref_dir, exist_ok=True)
    enc, dec = build_export_modules(model, half)
    g = torch.from_numpy(enc_glyphs.astype(np.float32))
    with torch.no_grad():
        style = enc(g)
        s2 = style[torch.arange(len(char_ids)) % style.shape[0]]
        ids = torch.from_numpy(char_ids.astype(np.int64))
        glyph = dec(s2, ids)
    common = dict(opset_version=17, do_constant_folding=False, export_params=True)
    torch.onnx.export(enc, (g,), os.path.join(out_dir, "encoder.onnx"), input_names=["glyphs"],
                      output_names=["style"],
                      dynamic_axes={"glyphs": {0: "batch"}, "style": {0: "batch"}}, **common)
    torch.onnx.export(dec, (s2, ids), os.path.join(out_dir, "decoder.onnx"),
                      input_names=["style", "char_ids"], output_names=["glyph"],
                      dynamic_axes={"style": {0: "batch"}, "char_ids": {0: "batch"},
                                    "glyph": {0: "batch"}}, **common)
    ref = {"tolerance": 1e-3, "graphs": {}}

    def put(name, arr):
        fn = f"{name}.bin"
        a = np.ascontiguousarray(arr)
        a.tofile(os.path.join(ref_dir, fn))
        return {"file": fn, "dtype": "int64" if a.dtype == np.int64 else "float32", "shape": list(a.shape)}

    ref["graphs"]["encoder"] = {
        "onnx": "encoder.onnx",
        "inputs": {"glyphs": put("enc_in_glyphs", g.numpy())},
        "outputs": {"style": put("enc_out_style", style.numpy())},
    }
    ref["graphs"]["decoder"] = {
        "onnx": "decoder.onnx",
        "inputs": {"style": put("dec_in_style", s2.numpy()), "char_ids": put("dec_in_char_ids", ids.numpy())},
        "outputs": {"glyph": put("dec_out_glyph", glyph.numpy())},
    }
    with open(os.path.join(ref_dir, "parity.json"), "w") as f:
        json.dump(ref, f, indent=1)
    sizes = {n: os.path.getsize(os.path.join(out_dir, n)) for n in ("encoder.onnx", "decoder.onnx")}
    log(f"onnx: {sizes}")
    return enc, dec


def run_parity(pack_dir: str, ref_dir: str, log=print) -> dict:
    """parity.mjs's report (its last output line, JSON); raises when a graph differs from torch."""
    lines = parity.run(os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity.mjs"), pack_dir, ref_dir, log)
    return json.loads(next(line for line in reversed(lines) if line.startswith("{")))
