"""Structural similarity (Wang et al. 2004), the variant every recipe reports."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM of two image batches [N, C, H, W] in [0, 1]: Gaussian 11x11 window (sigma
    1.5), data range 1, mean over channels and the valid pixels. The recipes' held-out figures, the
    emoji VAE's structure loss and the typeface dial sweeps all read this one function."""
    coords = torch.arange(11, dtype=torch.float32, device=a.device) - 5
    g1 = torch.exp(-coords ** 2 / (2 * 1.5 ** 2))
    g1 /= g1.sum()
    win = (g1[:, None] * g1[None, :]).expand(a.shape[1], 1, 11, 11).contiguous()

    def blur(t):
        return F.conv2d(t, win, groups=a.shape[1])

    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mu_a, mu_b = blur(a), blur(b)
    va = blur(a * a) - mu_a ** 2
    vb = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (va + vb + c2))
    return s.flatten(1).mean(1)
