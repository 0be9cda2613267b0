"""fp16 weights for ONNX export: a copy of a module whose Linear, Conv2d, ConvTranspose2d and
Embedding weights are stored as fp16 buffers and cast to float32 in forward (ONNX: an fp16
initializer behind a Cast, half the file size), and rounding a model's parameters through fp16
so that every figure is measured with the weights that ship."""
from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class _Half(nn.Module):
    """Holds a weight (fp16 when half) and a float32 bias; w() gives the weight in float32."""

    def __init__(self, mod: nn.Module, half: bool):
        super().__init__()
        dt = torch.float16 if half else torch.float32
        self.register_buffer("weight", mod.weight.detach().to(dt).clone())
        b = getattr(mod, "bias", None)
        self.register_buffer("bias", None if b is None else b.detach().float().clone())
        for a in ("stride", "padding", "output_padding", "dilation", "groups"):
            if hasattr(mod, a):
                setattr(self, a, getattr(mod, a))

    def w(self):
        return self.weight.float()


class HalfLinear(_Half):
    def forward(self, x):
        return F.linear(x, self.w(), self.bias)


class HalfConv(_Half):
    def forward(self, x):
        return F.conv2d(x, self.w(), self.bias, self.stride, self.padding, self.dilation, self.groups)


class HalfConvT(_Half):
    def forward(self, x):
        return F.conv_transpose2d(x, self.w(), self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)


class HalfEmbedding(_Half):
    def forward(self, ids):
        return F.embedding(ids, self.w())


def halfify(module: nn.Module, half: bool = True) -> nn.Module:
    """Copy of module (eval mode) whose plain Linear/Conv2d/ConvTranspose2d/Embedding children
    hold fp16 weights (float32 when half is False). Subclasses with their own forward are left
    alone (their forward would be lost)."""
    m = copy.deepcopy(module).eval()
    swap = {nn.Linear: HalfLinear, nn.Conv2d: HalfConv, nn.ConvTranspose2d: HalfConvT, nn.Embedding: HalfEmbedding}

    def rec(parent):
        for name, ch in list(parent.named_children()):
            cls = swap.get(type(ch))
            if cls is None:
                rec(ch)
            else:
                setattr(parent, name, cls(ch, half))

    rec(m)
    return m


@torch.no_grad()
def round_half(model: nn.Module) -> nn.Module:
    """Rounds every parameter through fp16 in place (metrics then match the shipped weights)."""
    for p in model.parameters():
        p.copy_(p.half().float())
    return model
