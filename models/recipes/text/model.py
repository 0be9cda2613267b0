"""A small decoder-only transformer (pre-LN, learned positions, tied embeddings) whose one
forward pass serves training, cached generation and ONNX export.

Hook names follow TransformerLens: the residual stream after block L is
`blocks.{L}.hook_resid_post` [batch, pos, d_model]. At the configured hook the forward pass
returns that residual (before steering) and then adds the `steering` tensor to it.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class LMConfig:
    vocab_size: int = 4096
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    context: int = 256
    hook_layer: int = 2

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    @property
    def hook_name(self) -> str:
        return f"blocks.{self.hook_layer}.hook_resid_post"

    def to_dict(self) -> dict:
        return asdict(self)


class Block(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        d = cfg.d_model
        self.n_heads, self.d_head = cfg.n_heads, cfg.d_head
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)

    def forward(self, x, mask, past_k=None, past_v=None):
        """x [B,S,D]; mask [B,1,S,P+S] bool (True = may attend); past_k/v [B,H,P,Dh] or None.
        Returns x, k [B,H,P+S,Dh], v [B,H,P+S,Dh]."""
        B, S, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=-1)
        q = q.view(B, S, self.n_heads, self.d_head).transpose(1, 2)
        k = k.view(B, S, self.n_heads, self.d_head).transpose(1, 2)
        v = v.view(B, S, self.n_heads, self.d_head).transpose(1, 2)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.d_head))
        att = att.masked_fill(~mask, -1e9)
        att = torch.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, S, D)
        x = x + self.proj(y)
        x = x + self.out(F.gelu(self.fc(self.ln2(x))))
        return x, k, v


class TinyLM(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.context, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.apply(self._init)
        for b in self.blocks:  # GPT-2 style scaled init of the residual projections
            nn.init.normal_(b.proj.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))
            nn.init.normal_(b.out.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, input_ids, position_ids=None, past_keys=None, past_values=None, steering=None,
                stop_at_hook=False, replace_hook=None):
        """input_ids [B,S] int64; position_ids [B,S] absolute positions (default 0..S-1);
        past_keys/values [L,B,H,P,Dh]; steering [B,S,D] added after the hook.
        replace_hook: optional fn(resid [B,S,D]) -> resid, applied at the hook (evaluation).
        Returns logits [B,S,V], present_keys, present_values [L,B,H,P+S,Dh], hook_resid [B,S,D]
        (or just hook_resid when stop_at_hook)."""
        B, S = input_ids.shape
        if position_ids is None:
            position_ids = torch.arange(S, device=input_ids.device).unsqueeze(0).expand(B, S)
        x = self.tok(input_ids) + self.pos(position_ids)
        # key j sits at absolute position j (the cache holds every earlier position), so a query
        # at absolute position p may attend keys j <= p.
        past_len = 0 if past_keys is None else past_keys.shape[3]
        key_pos = torch.arange(past_len + S, device=input_ids.device)
        mask = (key_pos.view(1, 1, 1, -1) <= position_ids.unsqueeze(1).unsqueeze(-1))
        keys, values = [], []
        hook_resid = None
        for i, block in enumerate(self.blocks):
            pk = None if past_keys is None else past_keys[i]
            pv = None if past_values is None else past_values[i]
            x, k, v = block(x, mask, pk, pv)
            keys.append(k)
            values.append(v)
            if i == self.cfg.hook_layer:
                hook_resid = x
                if stop_at_hook:
                    return hook_resid
                if replace_hook is not None:
                    x = replace_hook(x)
                if steering is not None:
                    x = x + steering
        logits = self.ln_f(x) @ self.tok.weight.t()
        return logits, torch.stack(keys), torch.stack(values), hook_resid


class OnnxWrapper(nn.Module):
    """The single-graph I/O of format 1 packs (kind text-lm, `model.onnx` a path): stacked
    past/present for all layers. Kept to read old packs; the recipe exports BelowHook/AboveHook."""

    def __init__(self, lm: TinyLM):
        super().__init__()
        self.lm = lm

    def forward(self, input_ids, position_ids, past_keys, past_values, steering):
        return self.lm(input_ids, position_ids, past_keys, past_values, steering)


def _mask(position_ids, past_len, S):
    """As TinyLM.forward: a query at absolute position p may attend keys j <= p. Returned
    negated (True = masked), once for all layers."""
    key_pos = torch.arange(past_len + S, device=position_ids.device)
    return ~(key_pos.view(1, 1, 1, -1) <= position_ids.unsqueeze(1).unsqueeze(-1))


class _Reshape(torch.autograd.Function):
    """x.reshape(shape) where a 0 keeps that dimension of x (and -1 takes the rest). Exported as one ONNX Reshape with
    a constant shape (0 = copy, as ONNX defines it) instead of the Shape/Gather/Unsqueeze/Concat
    chain a traced view(B, S, …) becomes: a cached one-token step runs a few dozen fewer
    operators."""

    @staticmethod
    def forward(ctx, x, shape):
        return x.reshape([x.shape[i] if n == 0 else n for i, n in enumerate(shape)])  # -1: the rest

    @staticmethod
    def symbolic(g, x, shape):
        return g.op("Reshape", x, g.op("Constant", value_t=torch.tensor(list(shape), dtype=torch.int64)))


def _export_block(blk: Block, x, masked, past_k, past_v):
    """Block.forward for the exported graphs, operation for operation the same arithmetic
    (so the same numbers), with constant reshapes and the mask negated once outside."""
    D = x.shape[-1]
    H, Dh = blk.n_heads, blk.d_head
    q, k, v = blk.qkv(blk.ln1(x)).split(D, dim=-1)
    q = _Reshape.apply(q, (0, -1, H, Dh)).transpose(1, 2)
    k = _Reshape.apply(k, (0, -1, H, Dh)).transpose(1, 2)
    v = _Reshape.apply(v, (0, -1, H, Dh)).transpose(1, 2)
    k = torch.cat([past_k, k], dim=2)
    v = torch.cat([past_v, v], dim=2)
    att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(Dh))
    att = att.masked_fill(masked, -1e9)
    att = torch.softmax(att, dim=-1)
    y = _Reshape.apply((att @ v).transpose(1, 2), (0, -1, H * Dh))
    x = x + blk.proj(y)
    x = x + blk.out(F.gelu(blk.fc(blk.ln2(x))))
    return x, k, v


def _unembed_weight(lm):
    """The tied embedding matrix in float32 (a fp16 copy made by common/fp16.halfify casts it)."""
    return lm.tok.w() if hasattr(lm.tok, "w") else lm.tok.weight


class BelowHook(nn.Module):
    """The graph up to the (first) hook (models/PACK_FORMAT.md, text-lm `below`): input_ids,
    position_ids [B,S] and past.{i}.key/value [B,H,P,Dh] for layers 0..hook ->
    hook_resid [B,S,D] (the residual after the hook block, before any steering) and
    present.{i}.key/value [B,H,P+S,Dh]. The same operations as TinyLM.forward. `last`: the
    hook's layer (default cfg.hook_layer)."""

    def __init__(self, lm: TinyLM, last: int | None = None):
        super().__init__()
        self.lm = lm
        self.last = lm.cfg.hook_layer if last is None else last

    def forward(self, input_ids, position_ids, *past):
        lm = self.lm
        S = input_ids.shape[1]
        x = lm.tok(input_ids) + lm.pos(position_ids)
        mask = _mask(position_ids, past[0].shape[2], S)
        presents = []
        for i in range(self.last + 1):
            x, k, v = _export_block(lm.blocks[i], x, mask, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return (x, *presents)


class MiddleHook(nn.Module):
    """A graph between two hooks (text-lm `middle`, packs with SAEs at several hooks):
    hook_resid [B,S,D] at layer `first` plus steering [B,S,D], position_ids [B,S] and
    past.{i}.key/value for layers first+1..last -> next_hook_resid [B,S,D] (the residual after
    block `last`, before its own steering) and present.{i}.key/value."""

    def __init__(self, lm: TinyLM, first: int, last: int):
        super().__init__()
        assert first < last, "a middle graph runs at least one block"
        self.lm, self.first, self.last = lm, first, last

    def forward(self, hook_resid, steering, position_ids, *past):
        x = hook_resid + steering
        mask = _mask(position_ids, past[0].shape[2], x.shape[1])
        presents = []
        for j, i in enumerate(range(self.first + 1, self.last + 1)):
            x, k, v = _export_block(self.lm.blocks[i], x, mask, past[2 * j], past[2 * j + 1])
            presents += [k, v]
        return (x, *presents)


class AboveHook(nn.Module):
    """The graph after the (last) hook (text-lm `above`): hook_resid [B,S,D] and steering [B,S,D]
    (added to it, as TinyLM.forward adds the steering), position_ids [B,S] and
    past.{i}.key/value for layers hook+1..L-1 -> logits [B,S,V] and present.{i}.key/value.
    With the hook at the last layer it is the final norm and the unembedding alone. `first`:
    the hook's layer (default cfg.hook_layer)."""

    def __init__(self, lm: TinyLM, first: int | None = None):
        super().__init__()
        self.lm = lm
        self.first = lm.cfg.hook_layer if first is None else first

    def forward(self, hook_resid, steering, position_ids=None, *past):
        lm = self.lm
        x = hook_resid + steering
        presents = []
        upper = range(self.first + 1, lm.cfg.n_layers)
        if len(upper) > 0:
            mask = _mask(position_ids, past[0].shape[2], x.shape[1])
            for j, i in enumerate(upper):
                x, k, v = _export_block(lm.blocks[i], x, mask, past[2 * j], past[2 * j + 1])
                presents += [k, v]
        logits = lm.ln_f(x) @ _unembed_weight(lm).t()
        return (logits, *presents)


@contextlib.contextmanager
def at_hook(model: TinyLM, layer: int):
    """TinyLM.forward's hook (stop_at_hook, replace_hook, steering) moved to `layer` for a while:
    the SAE and figures stages read each of a pack's hooks with the one model."""
    old = model.cfg
    model.cfg = replace(old, hook_layer=layer)
    try:
        yield model
    finally:
        model.cfg = old
