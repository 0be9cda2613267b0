"""Tiny decoder-only LMs with Hugging Face's module names, shapes and maths, so their ONNX
exports look like what optimum / transformers.js produce for real GPT-2 and Llama checkpoints.

  GPT2LMHeadModel:  transformer.wte, transformer.wpe, transformer.h.N.{ln_1, attn.c_attn, attn.c_proj,
                    ln_2, mlp.c_fc, mlp.c_proj}, transformer.ln_f, lm_head (tied to wte); Conv1D weights
                    are [in, out]; gelu_new; attention scaled by 1/sqrt(d_head).
  LlamaForCausalLM: model.embed_tokens, model.layers.N.{input_layernorm (RMSNorm), self_attn.{q,k,v,o}_proj
                    (no bias, grouped-query), post_attention_layernorm, mlp.{gate,up,down}_proj (SiLU)},
                    model.norm, lm_head; rotary positions computed from position_ids.

Both take optimum's decoder I/O: forward(input_ids, attention_mask, position_ids, *past) → (logits,
*present), past/present flattened as layer 0 key, layer 0 value, layer 1 key, …, each
[batch, n_kv_heads, past, d_head]; present = Concat(past, new) on the sequence axis. The attention is
causal and honours attention_mask (masked keys get float32's lowest value, as transformers does).

Each block holds TransformerLens hook points as parameter-free identities (hook_resid_pre,
hook_resid_mid, hook_resid_post): forward hooks on them read or steer the residual stream; they
add no weights and no ONNX nodes.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = torch.finfo(torch.float32).min


class HookPoint(nn.Identity):
    """A named place in the residual stream (TransformerLens's hook names)."""


def hook_name(layer: int, which: str) -> str:
    return f"blocks.{layer}.hook_resid_{which}"


def hook_modules(model) -> dict:
    """TransformerLens hook name → the HookPoint module."""
    return {hook_name(i, w): getattr(b, "hook_resid_" + w)
            for i, b in enumerate(model.blocks()) for w in ("pre", "mid", "post")}


def attention_bias(attention_mask: torch.Tensor, seq: int, past: int) -> torch.Tensor:
    """[batch, 1, seq, past+seq]: 0 where a query may attend, float32's lowest value elsewhere."""
    total = attention_mask.shape[1]
    q = torch.arange(seq).unsqueeze(1) + (total - seq)
    k = torch.arange(total).unsqueeze(0)
    allowed = (k <= q).unsqueeze(0).unsqueeze(0) & attention_mask.bool().unsqueeze(1).unsqueeze(2)
    zero = torch.zeros((), dtype=torch.float32)
    return torch.where(allowed, zero, torch.full((), NEG))


def attend(q, k, v, bias, d_head: int):
    """q [B, H, S, D], k/v [B, H, T, D] (heads already repeated), bias [B, 1, S, T]."""
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d_head) + bias
    return torch.matmul(torch.softmax(scores, dim=-1), v)


# ---------------------------------------------------------------------------------------- GPT-2

GPT2_DEFAULTS = dict(n_layer=3, n_head=4, n_embd=64, n_positions=128, layer_norm_epsilon=1e-5)


class Conv1D(nn.Module):
    """transformers.pytorch_utils.Conv1D: y = x @ weight + bias, weight [in, out]."""

    def __init__(self, n_out: int, n_in: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.matmul(x, self.weight) + self.bias


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, d: int, n_head: int):
        super().__init__()
        self.n_head, self.d_head = n_head, d // n_head
        self.c_attn = Conv1D(3 * d, d)
        self.c_proj = Conv1D(d, d)

    def split(self, x):
        B, S, _ = x.shape
        return x.view(B, S, self.n_head, self.d_head).transpose(1, 2)

    def forward(self, x, bias, past_k, past_v):
        q, k, v = self.c_attn(x).split(self.n_head * self.d_head, dim=2)
        q, k, v = self.split(q), self.split(k), self.split(v)
        k = torch.cat([past_k, k], dim=-2)
        v = torch.cat([past_v, v], dim=-2)
        out = attend(q, k, v, bias, self.d_head)
        B, _, S, _ = out.shape
        out = out.transpose(1, 2).reshape(B, S, self.n_head * self.d_head)
        return self.c_proj(out), k, v


class GPT2MLP(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.c_fc = Conv1D(4 * d, d)
        self.c_proj = Conv1D(d, 4 * d)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, d: int, n_head: int, eps: float):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = GPT2Attention(d, n_head)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = GPT2MLP(d)
        self.hook_resid_pre, self.hook_resid_mid, self.hook_resid_post = HookPoint(), HookPoint(), HookPoint()

    def forward(self, x, bias, past_k, past_v):
        residual = self.hook_resid_pre(x)
        attn_output, k, v = self.attn(self.ln_1(residual), bias, past_k, past_v)
        hidden = self.hook_resid_mid(attn_output + residual)  # as transformers writes it
        residual = hidden
        hidden = residual + self.mlp(self.ln_2(hidden))
        return self.hook_resid_post(hidden), k, v


class GPT2Model(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
        self.h = nn.ModuleList([GPT2Block(c["n_embd"], c["n_head"], c["layer_norm_epsilon"])
                                for _ in range(c["n_layer"])])
        self.ln_f = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)

    def forward(self, input_ids, attention_mask, position_ids, past):
        bias = attention_bias(attention_mask, input_ids.shape[1], past[0].shape[2])
        hidden = self.wte(input_ids) + self.wpe(position_ids)
        present = []
        for i, block in enumerate(self.h):
            hidden, k, v = block(hidden, bias, past[2 * i], past[2 * i + 1])
            present += [k, v]
        return self.ln_f(hidden), present


class GPT2LMHeadModel(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.config = c
        self.transformer = GPT2Model(c)
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tie_word_embeddings

    def blocks(self):
        return list(self.transformer.h)

    @property
    def n_kv_heads(self) -> int:
        return self.config["n_head"]

    @property
    def d_head(self) -> int:
        return self.config["n_embd"] // self.config["n_head"]

    def forward(self, input_ids, attention_mask, position_ids, *past):
        hidden, present = self.transformer(input_ids, attention_mask, position_ids, past)
        return (self.lm_head(hidden), *present)


def gpt2_config(vocab_size: int, eot_id: int, **over) -> dict:
    c = dict(GPT2_DEFAULTS, **over)
    return {
        "_name_or_path": "orrery/gpt2-tiny",
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.0,
        "bos_token_id": eot_id,
        "embd_pdrop": 0.0,
        "eos_token_id": eot_id,
        "initializer_range": 0.02,
        "layer_norm_epsilon": c["layer_norm_epsilon"],
        "model_type": "gpt2",
        "n_ctx": c["n_positions"],
        "n_embd": c["n_embd"],
        "n_head": c["n_head"],
        "n_inner": None,
        "n_layer": c["n_layer"],
        "n_positions": c["n_positions"],
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.0,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "summary_activation": None,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "transformers_version": "4.44.2",
        "use_cache": True,
        "vocab_size": vocab_size,
    }


# ---------------------------------------------------------------------------------------- Llama

LLAMA_DEFAULTS = dict(num_hidden_layers=3, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                      intermediate_size=128, rms_norm_eps=1e-5, rope_theta=10000.0, max_position_embeddings=128)


class LlamaRMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LlamaRotaryEmbedding(nn.Module):
    def __init__(self, d_head: int, theta: float):
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, d_head, 2, dtype=torch.float32) / d_head))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, position_ids):
        """position_ids [B, S] → cos, sin [B, 1, S, d_head]."""
        freqs = position_ids.float().unsqueeze(-1) * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)


class LlamaAttention(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        d = c["hidden_size"]
        self.n_head, self.n_kv = c["num_attention_heads"], c["num_key_value_heads"]
        self.d_head = d // self.n_head
        self.q_proj = nn.Linear(d, self.n_head * self.d_head, bias=False)
        self.k_proj = nn.Linear(d, self.n_kv * self.d_head, bias=False)
        self.v_proj = nn.Linear(d, self.n_kv * self.d_head, bias=False)
        self.o_proj = nn.Linear(self.n_head * self.d_head, d, bias=False)

    def repeat_kv(self, x):
        """transformers' repeat_kv: [B, n_kv, T, D] → [B, n_head, T, D], query head h reads kv head h // rep."""
        B, _, T, D = x.shape
        rep = self.n_head // self.n_kv
        return x[:, :, None, :, :].expand(B, self.n_kv, rep, T, D).reshape(B, self.n_kv * rep, T, D)

    def forward(self, x, cos, sin, bias, past_k, past_v):
        B, S, _ = x.shape
        q = self.q_proj(x).view(B, S, self.n_head, self.d_head).transpose(1, 2)
        k = self.k_proj(x).view(B, S, self.n_kv, self.d_head).transpose(1, 2)
        v = self.v_proj(x).view(B, S, self.n_kv, self.d_head).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_k, k], dim=-2)  # the cache holds rotated keys, as transformers' does
        v = torch.cat([past_v, v], dim=-2)
        out = attend(q, self.repeat_kv(k), self.repeat_kv(v), bias, self.d_head)
        out = out.transpose(1, 2).reshape(B, S, self.n_head * self.d_head)
        return self.o_proj(out), k, v


class LlamaMLP(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        d, m = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = nn.Linear(d, m, bias=False)
        self.up_proj = nn.Linear(d, m, bias=False)
        self.down_proj = nn.Linear(m, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.input_layernorm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = LlamaAttention(c)
        self.post_attention_layernorm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = LlamaMLP(c)
        self.hook_resid_pre, self.hook_resid_mid, self.hook_resid_post = HookPoint(), HookPoint(), HookPoint()

    def forward(self, x, cos, sin, bias, past_k, past_v):
        residual = self.hook_resid_pre(x)
        hidden, k, v = self.self_attn(self.input_layernorm(residual), cos, sin, bias, past_k, past_v)
        hidden = self.hook_resid_mid(residual + hidden)
        residual = hidden
        hidden = residual + self.mlp(self.post_attention_layernorm(hidden))
        return self.hook_resid_post(hidden), k, v


class LlamaModel(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([LlamaDecoderLayer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.rotary_emb = LlamaRotaryEmbedding(c["hidden_size"] // c["num_attention_heads"], c["rope_theta"])
        nn.init.normal_(self.embed_tokens.weight, std=0.02)

    def forward(self, input_ids, attention_mask, position_ids, past):
        bias = attention_bias(attention_mask, input_ids.shape[1], past[0].shape[2])
        cos, sin = self.rotary_emb(position_ids)
        hidden = self.embed_tokens(input_ids)
        present = []
        for i, layer in enumerate(self.layers):
            hidden, k, v = layer(hidden, cos, sin, bias, past[2 * i], past[2 * i + 1])
            present += [k, v]
        return self.norm(hidden), present


class LlamaForCausalLM(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.config = c
        self.model = LlamaModel(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        for name, p in self.named_parameters():
            if p.dim() == 2 and "embed_tokens" not in name:
                nn.init.normal_(p, std=0.02)

    def blocks(self):
        return list(self.model.layers)

    @property
    def n_kv_heads(self) -> int:
        return self.config["num_key_value_heads"]

    @property
    def d_head(self) -> int:
        return self.config["hidden_size"] // self.config["num_attention_heads"]

    def forward(self, input_ids, attention_mask, position_ids, *past):
        hidden, present = self.model(input_ids, attention_mask, position_ids, past)
        return (self.lm_head(hidden), *present)


def llama_config(vocab_size: int, bos_id: int, eos_id: int, **over) -> dict:
    c = dict(LLAMA_DEFAULTS, **over)
    return {
        "_name_or_path": "orrery/llama-tiny",
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": bos_id,
        "eos_token_id": eos_id,
        "head_dim": c["hidden_size"] // c["num_attention_heads"],
        "hidden_act": "silu",
        "hidden_size": c["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": c["intermediate_size"],
        "max_position_embeddings": c["max_position_embeddings"],
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": c["num_attention_heads"],
        "num_hidden_layers": c["num_hidden_layers"],
        "num_key_value_heads": c["num_key_value_heads"],
        "pretraining_tp": 1,
        "rms_norm_eps": c["rms_norm_eps"],
        "rope_scaling": None,
        "rope_theta": c["rope_theta"],
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "transformers_version": "4.44.2",
        "use_cache": True,
        "vocab_size": vocab_size,
    }


def build(config: dict) -> nn.Module:
    return GPT2LMHeadModel(config) if config["model_type"] == "gpt2" else LlamaForCausalLM(config)


def n_layers(config: dict) -> int:
    return config.get("n_layer") or config["num_hidden_layers"]


def d_model(config: dict) -> int:
    return config.get("n_embd") or config["hidden_size"]


def empty_past(model, batch: int) -> list:
    return [torch.zeros(batch, model.n_kv_heads, 0, model.d_head) for _ in range(2 * n_layers(model.config))]
