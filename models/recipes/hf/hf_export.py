"""ONNX export with optimum's decoder I/O (what `optimum-cli export onnx --task text-generation-with-past`
writes as onnx/decoder_model.onnx), and a structural check of the written graph with the `onnx`
package (names, element types, ranks, dynamic axes, external data).

  inputs   input_ids [batch_size, sequence_length] int64
           attention_mask [batch_size, past_sequence_length + sequence_length] int64
           position_ids [batch_size, sequence_length] int64
           past_key_values.N.key / .value [batch_size, n_kv_heads, past_sequence_length, d_head] float32
  outputs  logits [batch_size, sequence_length, vocab] float32
           present.N.key / .value [batch_size, n_kv_heads, past_sequence_length + sequence_length, d_head]
"""
from __future__ import annotations

import os
import tempfile

import onnx
import torch

from hf_models import n_layers

OPSET = 17  # torch 1.13 exports LayerNormalization at opset 17
TOTAL = "past_sequence_length + sequence_length"


def io_names(config: dict) -> tuple[list[str], list[str]]:
    L = n_layers(config)
    past = [f"past_key_values.{i}.{kv}" for i in range(L) for kv in ("key", "value")]
    present = [f"present.{i}.{kv}" for i in range(L) for kv in ("key", "value")]
    return ["input_ids", "attention_mask", "position_ids", *past], ["logits", *present]


def dynamic_axes(ins: list[str], outs: list[str]) -> dict:
    dyn = {}
    for n in ins + outs:
        if n.startswith("past_key_values."):
            dyn[n] = {0: "batch_size", 2: "past_sequence_length"}
        elif n.startswith("present."):
            dyn[n] = {0: "batch_size", 2: TOTAL}
        elif n == "attention_mask":
            dyn[n] = {0: "batch_size", 1: TOTAL}
        else:
            dyn[n] = {0: "batch_size", 1: "sequence_length"}
    return dyn


def export(model, folder: str, external_data: bool) -> str:
    """Writes folder/onnx/decoder_model.onnx (+ decoder_model.onnx_data when external_data)."""
    cfg = model.config
    B, S, P = 2, 3, 2  # a non-empty past while tracing; batch, sequence and past are dynamic
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, cfg["vocab_size"], (B, S), generator=g)
    mask = torch.ones(B, P + S, dtype=torch.long)
    pos = torch.arange(P, P + S).unsqueeze(0).repeat(B, 1)
    past = [torch.randn(B, model.n_kv_heads, P, model.d_head, generator=g) for _ in range(2 * n_layers(cfg))]
    ins, outs = io_names(cfg)
    out_dir = os.path.join(folder, "onnx")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "decoder_model.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "decoder_model.onnx")
        with torch.no_grad():
            torch.onnx.export(model, (ids, mask, pos, *past), raw, input_names=ins, output_names=outs,
                              dynamic_axes=dynamic_axes(ins, outs), opset_version=OPSET,
                              do_constant_folding=True)
        m = onnx.load(raw)
    for f in (path, path + "_data"):
        if os.path.exists(f):
            os.remove(f)
    if external_data:
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="decoder_model.onnx_data", size_threshold=1024)
    else:
        onnx.save_model(m, path)
    return path


_ELEM = {onnx.TensorProto.INT64: "int64", onnx.TensorProto.FLOAT: "float32"}


def describe(value_info) -> tuple[str, list]:
    t = value_info.type.tensor_type
    dims = [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]
    return _ELEM.get(t.elem_type, str(t.elem_type)), dims


def check(path: str, model) -> dict:
    """Loads the written graph (with its external data), runs onnx's checker, and verifies every
    input and output by name, element type and shape (dynamic axes by name). Raises on a mismatch;
    returns a summary."""
    cfg = model.config
    m = onnx.load(path)  # resolves external data next to the file
    onnx.checker.check_model(m)
    ins, outs = io_names(cfg)
    got_in = {v.name: describe(v) for v in m.graph.input}
    got_out = {v.name: describe(v) for v in m.graph.output}
    if list(got_in) != ins or list(got_out) != outs:
        raise AssertionError(f"{path}: I/O names {list(got_in)} → {list(got_out)}, want {ins} → {outs}")
    kv, dh = model.n_kv_heads, model.d_head
    want = {"input_ids": ("int64", ["batch_size", "sequence_length"]),
            "attention_mask": ("int64", ["batch_size", TOTAL]),
            "position_ids": ("int64", ["batch_size", "sequence_length"]),
            "logits": ("float32", ["batch_size", "sequence_length", cfg["vocab_size"]])}
    for n in ins[3:]:
        want[n] = ("float32", ["batch_size", kv, "past_sequence_length", dh])
    for n in outs[1:]:
        want[n] = ("float32", ["batch_size", kv, TOTAL, dh])
    for n, w in want.items():
        got = got_in.get(n) or got_out.get(n)
        if got != w:
            raise AssertionError(f"{path}: {n} is {got}, want {w}")
    ops: dict[str, int] = {}
    for node in m.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    n_params = sum(int(torch.tensor(list(t.dims)).prod()) if t.dims else 1 for t in m.graph.initializer)
    return {"opset": m.opset_import[0].version, "nodes": len(m.graph.node), "ops": ops,
            "initializers": len(m.graph.initializer), "initializer_elements": n_params}
