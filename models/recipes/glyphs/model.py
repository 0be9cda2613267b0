"""Character-conditioned glyph VAE: the latent is a face's style, the decoder draws any charset
character in that style, the encoder reads the style from a few glyphs of a face."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class GlyphEncoder(nn.Module):
    """glyphs [B, K, 64, 64] (+ optional mask [B, K]) -> mu, logvar [B, style_dim].

    Each glyph goes through a shared CNN, gets a learned per-position (= per encoder character)
    embedding added, and the glyph features are mean-pooled over the characters present (the mask
    lets training read random subsets, so the style is stable whichever glyphs are shown)."""

    def __init__(self, n_chars: int, style_dim: int = 32, width: int = 32, hidden: int = 256):
        super().__init__()
        w = width
        self.cnn = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2),            # 32
            nn.Conv2d(w, w * 2, 4, 2, 1), nn.LeakyReLU(0.2),        # 16
            nn.Conv2d(w * 2, w * 4, 4, 2, 1), nn.LeakyReLU(0.2),    # 8
            nn.Conv2d(w * 4, w * 4, 4, 2, 1), nn.LeakyReLU(0.2),    # 4
        )
        self.proj = nn.Linear(w * 4 * 16, hidden)
        self.pos = nn.Parameter(torch.zeros(n_chars, hidden))
        self.head = nn.Sequential(nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                  nn.Linear(hidden, 2 * style_dim))
        self.n_chars = n_chars
        self.style_dim = style_dim
        # the style is standardised over the batch (running statistics at inference): the encoder
        # cannot shrink it to a constant, so the decoder has to read it (no posterior collapse)
        self.norm = nn.BatchNorm1d(style_dim, eps=1e-8, affine=False, momentum=0.02)
        # start with a narrow posterior (std ~0.1) so the decoder learns to use the style
        # instead of treating it as noise (avoids posterior collapse early in training)
        with torch.no_grad():
            last = self.head[-1]
            last.bias[style_dim:].fill_(-4.0)
            last.weight[style_dim:].mul_(0.1)
            last.weight[:style_dim].mul_(10.0)

    def forward(self, glyphs, mask=None):
        b, k, h, w = glyphs.shape
        x = self.cnn(glyphs.reshape(b * k, 1, h, w))
        x = self.proj(x.reshape(b * k, -1)).reshape(b, k, -1) + self.pos
        if mask is None:
            pooled = x.mean(1)
        else:
            m = mask.unsqueeze(-1)
            pooled = (x * m).sum(1) / m.sum(1).clamp(min=1.0)
        out = self.head(pooled)
        return self.norm(out[:, : self.style_dim]), out[:, self.style_dim:].clamp(-10.0, 4.0)


class GlyphDecoder(nn.Module):
    """style [B, style_dim], char_ids int64 [B] -> glyph [B, 1, 64, 64] in [0, 1] (1 = ink).

    An MLP on [style, char embedding] lays out an 8x8 map; three stride-2 transposed convs bring
    it to 64x64 (kept narrow: the recipe trains on one shared CPU core)."""

    def __init__(self, n_chars: int, style_dim: int = 32, char_dim: int = 32, width: int = 16,
                 hidden: int = 512):
        super().__init__()
        w = width
        self.char_emb = nn.Embedding(n_chars, char_dim)
        self.mlp = nn.Sequential(
            nn.Linear(style_dim + char_dim, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, w * 4 * 8 * 8), nn.LeakyReLU(0.2),
        )
        self.w = w
        self.ups = nn.Sequential(
            nn.ConvTranspose2d(w * 4, w * 2, 4, 2, 1), nn.LeakyReLU(0.2),   # 16
            nn.Conv2d(w * 2, w * 2, 3, 1, 1), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(w * 2, w, 4, 2, 1), nn.LeakyReLU(0.2),       # 32
            nn.Conv2d(w, w, 3, 1, 1), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(w, w // 2, 4, 2, 1), nn.LeakyReLU(0.2),      # 64
            nn.Conv2d(w // 2, 1, 3, 1, 1),
        )

    def logits(self, style, char_ids):
        c = self.char_emb(char_ids)
        x = self.mlp(torch.cat([style, c], 1)).reshape(-1, self.w * 4, 8, 8)
        return self.ups(x)

    def forward(self, style, char_ids):
        return torch.sigmoid(self.logits(style, char_ids))


class GlyphCVAE(nn.Module):
    def __init__(self, n_chars: int, n_enc_chars: int, style_dim: int = 32, enc_width: int = 32,
                 dec_width: int = 32, hidden: int = 512):
        super().__init__()
        self.encoder = GlyphEncoder(n_enc_chars, style_dim, enc_width, hidden // 2)
        self.decoder = GlyphDecoder(n_chars, style_dim, 32, dec_width, hidden)
        self.style_dim = style_dim


class GlyphClassifier(nn.Module):
    """Small CNN that names the character of a real glyph (legibility check for decoded glyphs)."""

    def __init__(self, n_chars: int, width: int = 32):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.AvgPool2d(2),                                        # 32
            nn.Conv2d(1, w, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),   # 16
            nn.Conv2d(w, w * 2, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),  # 8
            nn.Conv2d(w * 2, w * 4, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),  # 4
            nn.Flatten(), nn.Linear(w * 4 * 16, 256), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(256, n_chars),
        )

    def forward(self, x):
        return self.net(x)
