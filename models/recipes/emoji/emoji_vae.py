"""Convolutional VAE for 64x64 (or 128x128) RGB emoji, split into the three graphs of PACK_FORMAT image-vae.

encoder:      image [B,3,64,64] -> mu, logvar [B,latent_dim]
decoder_head: latent [B,latent_dim] -> spatial [B,C,8,8]   (hook decoder.hook_spatial, post-SiLU)
decoder_tail: spatial [B,C,8,8] -> image [B,3,64,64]       (sigmoid, range [0,1])

Layers keep a float32 master weight for training. For export, `freeze_half()` rounds every
weight to fp16 and stores it as an fp16 buffer that the forward casts back to float32, so
the ONNX graph carries fp16 initializers behind Cast nodes (half the file size) and torch
computes exactly what onnxruntime computes.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from common.ssim import ssim


@dataclass(frozen=True)
class VaeShape:
    latent_dim: int = 64
    spatial_channels: int = 64
    enc: tuple[int, int, int, int] = (32, 64, 128, 128)  # 32x32, 16x16, 8x8, 4x4
    head: int = 128  # channels of the 4x4 map behind the head's linear layer
    tail: tuple[int, int, int] = (64, 48, 24)  # 16x16, 32x32, 64x64
    size: int = 64  # 128: one more stride-2 conv in front of the encoder and one more x2 up at the end
    outer: int = 16  # channels at 64x64 of that extra stage (size 128 only)


class _HalfFreezable(nn.Module):
    """A weight holder that can be frozen to fp16 storage for export."""

    def _init_half(self) -> None:
        self.frozen = False

    def freeze_half(self) -> None:
        self.register_buffer("weight16", self.weight.detach().half())
        self.register_buffer("bias16", self.bias.detach().half())
        self.frozen = True

    def w(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.frozen:
            return self.weight16.float(), self.bias16.float()
        return self.weight, self.bias


class Conv(nn.Conv2d, _HalfFreezable):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self._init_half()

    def forward(self, x):
        w, b = self.w()
        return F.conv2d(x, w, b, self.stride, self.padding)


class Up(nn.Conv2d, _HalfFreezable):
    """x2 upsampling: a 3x3 conv to 4*c_out channels at the input resolution, then
    pixel shuffle (ONNX DepthToSpace). Runs on the fast conv kernels, unlike ConvTranspose2d."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(c_in, 4 * c_out, 3, 1, 1)
        self._init_half()

    def forward(self, x):
        w, b = self.w()
        return F.pixel_shuffle(F.conv2d(x, w, b, 1, 1), 2)


class Linear(nn.Linear, _HalfFreezable):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self._init_half()

    def forward(self, x):
        w, b = self.w()
        return F.linear(x, w, b)


class Encoder(nn.Module):
    def __init__(self, s: VaeShape):
        super().__init__()
        c1, c2, c3, c4 = s.enc
        if s.size not in (64, 128):
            raise ValueError(f"image size {s.size}: 64 or 128")
        front = [Conv(3, s.outer, 4, 2, 1), Conv(s.outer, c1, 4, 2, 1)] if s.size == 128 else [Conv(3, c1, 4, 2, 1)]
        self.convs = nn.ModuleList(front + [Conv(c1, c2, 4, 2, 1), Conv(c2, c3, 4, 2, 1), Conv(c3, c4, 4, 2, 1)])
        self.fc = Linear(c4 * 16, 2 * s.latent_dim)
        self.latent_dim = s.latent_dim

    def forward(self, image):
        h = image * 2.0 - 1.0
        for conv in self.convs:
            h = F.silu(conv(h))
        out = self.fc(torch.flatten(h, 1))
        mu, logvar = out[:, : self.latent_dim], out[:, self.latent_dim:]
        return mu, logvar


class DecoderHead(nn.Module):
    def __init__(self, s: VaeShape):
        super().__init__()
        self.fc = Linear(s.latent_dim, s.head * 16)
        self.up = Up(s.head, s.spatial_channels)
        self.head = s.head

    def forward(self, latent):
        h = F.silu(self.fc(latent)).reshape(-1, self.head, 4, 4)
        return F.silu(self.up(h))


class DecoderTail(nn.Module):
    def __init__(self, s: VaeShape):
        super().__init__()
        t1, t2, t3 = s.tail
        self.ups = nn.ModuleList([
            Up(s.spatial_channels, t1), Up(t1, t2), Up(t2, t3), *([Up(t3, s.outer)] if s.size == 128 else []),
        ])
        self.refine = Conv(t1, t1, 3, 1, 1)  # a residual 3x3 at 16x16: cheap, sharpens
        self.out = Conv(s.outer if s.size == 128 else t3, 3, 3, 1, 1)

    def forward(self, spatial):
        h = F.silu(self.ups[0](spatial))
        h = h + F.silu(self.refine(h))
        for up in self.ups[1:]:
            h = F.silu(up(h))
        return torch.sigmoid(self.out(h))


class EmojiVae(nn.Module):
    def __init__(self, s: VaeShape):
        super().__init__()
        self.shape = s
        self.encoder = Encoder(s)
        self.decoder_head = DecoderHead(s)
        self.decoder_tail = DecoderTail(s)

    def decode(self, z):
        return self.decoder_tail(self.decoder_head(z))

    def forward(self, image, sample: bool = True):
        mu, logvar = self.encoder(image)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        return self.decode(z), mu, logvar

    def freeze_half(self) -> None:
        for m in self.modules():
            if isinstance(m, _HalfFreezable):
                m.freeze_half()


def vae_loss(recon, image, mu, logvar, beta: float, ssim_weight: float = 0.0):
    """Per-image sum of squared errors + ssim_weight * (1 - SSIM) + beta * KL(q(z|x) || N(0, I)),
    batch mean. The SSIM term keeps edges and small shapes that squared error alone lets blur
    (the sum of squared errors of a 64x64 emoji is ~50-100, so a weight of a few hundred puts
    the two on a par)."""
    se = ((recon - image) ** 2).flatten(1).sum(1).mean()
    kl = (0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar)).sum(1).mean()
    loss = se + beta * kl
    if ssim_weight:
        loss = loss + ssim_weight * (1.0 - ssim(recon, image)).mean()
    return loss, se, kl
