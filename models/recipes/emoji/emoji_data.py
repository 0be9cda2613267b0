"""Emoji data: Unicode's emoji-test.txt (names, groups, subgroups) rendered with Noto Color Emoji.

Every fully-qualified emoji (and the 9 `component` entries: skin tones, hair) is drawn with
PIL at the font's only bitmap size (109 px em, 136x128 bitmaps; libraqm shapes ZWJ
sequences, flags and keycaps into one glyph), composited on a neutral grey ground at full
resolution, then downsampled to 64x64 RGB with a Lanczos filter.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
from dataclasses import dataclass

import numpy as np

EMOJI_TEST_CANDIDATES = (
    "/usr/share/unicode/emoji/emoji-test.txt",
    "/usr/share/unicode-data/emoji/emoji-test.txt",
)
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/noto/NotoColorEmoji.ttf",
)
BACKGROUND = (0.5, 0.5, 0.5)  # RGB in [0, 1]; written to manifest image.background
FONT_SIZE = 109  # the CBDT strike of NotoColorEmoji
SKIN_TONES = {0x1F3FB, 0x1F3FC, 0x1F3FD, 0x1F3FE, 0x1F3FF}
KEPT_STATUS = ("fully-qualified", "component")

_LINE = re.compile(r"^([0-9A-F ]+?)\s*;\s*([a-z-]+)\s*#\s*(\S+)\s+E\d+\.\d+\s+(.+)$")


@dataclass(frozen=True)
class Emoji:
    codepoints: tuple[int, ...]
    status: str
    name: str
    group: str
    subgroup: str

    @property
    def text(self) -> str:
        return "".join(chr(c) for c in self.codepoints)

    @property
    def family_key(self) -> str:
        """The emoji without skin-tone modifiers: all tones of one emoji share a split."""
        base = [c for c in self.codepoints if c not in SKIN_TONES] or list(self.codepoints)
        return " ".join(f"{c:X}" for c in base)


SKIN_TONE = re.compile(r"(medium-light|medium-dark|medium|light|dark) skin tone")


def skin_tone(e: Emoji) -> str | None:
    """The skin tone an emoji's name gives (Unicode's five modifiers), "mixed" for two
    different ones, "default" for people without a modifier (Unicode's yellow default), and
    None outside People & Body."""
    tones = set(SKIN_TONE.findall(e.name))
    if len(tones) == 1:
        return tones.pop()
    if tones:
        return "mixed"
    return "default" if e.group == "People & Body" else None


def example_meta(e: Emoji) -> dict[str, str]:
    """The metadata of one emoji in the pack's examples.jsonl."""
    meta = {"group": e.group, "subgroup": e.subgroup}
    tone = skin_tone(e)
    if tone is not None:
        meta["skin_tone"] = tone
    return meta


def find_file(candidates: tuple[str, ...], what: str) -> str:
    for path in candidates:
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{what} not found (looked in {', '.join(candidates)}); "
                            "install the Debian package (unicode-data / fonts-noto-color-emoji)")


def parse_emoji_test(path: str) -> list[Emoji]:
    group = subgroup = ""
    out: list[Emoji] = []
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            line = raw.rstrip("\n")
            if line.startswith("# group:"):
                group = line.split(":", 1)[1].strip()
                continue
            if line.startswith("# subgroup:"):
                subgroup = line.split(":", 1)[1].strip()
                continue
            if not line or line.startswith("#"):
                continue
            m = _LINE.match(line)
            if not m:
                raise ValueError(f"unparsed emoji-test line: {line!r}")
            cps, status, _glyph, name = m.groups()
            if status not in KEPT_STATUS:
                continue
            out.append(Emoji(tuple(int(c, 16) for c in cps.split()), status, name.strip(), group, subgroup))
    return out


def render(emojis: list[Emoji], font_path: str, size: int = 64) -> tuple[np.ndarray, list[int]]:
    """Returns uint8 [N, size, size, 3] and the indices into `emojis` that rendered as one glyph."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(font_path, FONT_SIZE, layout_engine=ImageFont.Layout.RAQM)
    ground = tuple(int(round(255 * v)) for v in BACKGROUND)
    images, kept = [], []
    for i, e in enumerate(emojis):
        text = e.text
        # One glyph is 136 px wide; more means the shaper fell back to several glyphs.
        if font.getlength(text) > 140:
            continue
        left, top, right, bottom = font.getbbox(text)
        w, h = right - left, bottom - top
        side = max(w, h)
        canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        ImageDraw.Draw(canvas).text(((side - w) // 2 - left, (side - h) // 2 - top), text,
                                    font=font, embedded_color=True)
        if canvas.getbbox() is None:
            continue  # nothing drawn: the font lacks this sequence
        flat = Image.new("RGBA", canvas.size, ground + (255,))
        flat.alpha_composite(canvas)
        small = flat.convert("RGB").resize((size, size), Image.LANCZOS)
        images.append(np.asarray(small, dtype=np.uint8))
        kept.append(i)
    return np.stack(images), kept


def family_split(emojis: list[Emoji], val_fraction: float, seed: int) -> list[str]:
    """Seeded hold-out by family (an emoji and its skin-tone variants), about val_fraction of images."""
    families: dict[str, list[int]] = {}
    for i, e in enumerate(emojis):
        families.setdefault(e.family_key, []).append(i)
    keys = sorted(families)
    random.Random(seed).shuffle(keys)
    split = ["train"] * len(emojis)
    target = val_fraction * len(emojis)
    taken = 0
    for k in keys:
        if taken >= target:
            break
        for i in families[k]:
            split[i] = "val"
        taken += len(families[k])
    return split


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_dataset(cache: str, val_fraction: float, seed: int, limit: int | None = None, size: int = 64) -> dict:
    """Renders (or reads the cached) dataset at size x size. `limit` takes a seeded, group-balanced slice."""
    test_path = find_file(EMOJI_TEST_CANDIDATES, "emoji-test.txt")
    font_path = find_file(FONT_CANDIDATES, "NotoColorEmoji.ttf")
    emojis = parse_emoji_test(test_path)
    if limit is not None and limit < len(emojis):
        rng = random.Random(seed)
        by_group: dict[str, list[int]] = {}
        for i, e in enumerate(emojis):
            by_group.setdefault(e.group, []).append(i)
        picked: list[int] = []
        groups = sorted(by_group)
        while len(picked) < limit:  # round-robin over groups so every group appears
            for g in groups:
                pool = [i for i in by_group[g] if i not in picked]
                if pool and len(picked) < limit:
                    picked.append(rng.choice(pool))
        emojis = [emojis[i] for i in sorted(picked)]
    key = hashlib.sha256(("|".join(e.text for e in emojis) + file_sha256(font_path)
                          + ("" if size == 64 else f"|{size}")).encode()).hexdigest()[:16]
    if cache and os.path.exists(cache):
        z = np.load(cache, allow_pickle=False)
        if str(z["key"]) == key:
            images, kept = z["images"], z["kept"].tolist()
        else:
            images, kept = render(emojis, font_path, size)
    else:
        images, kept = render(emojis, font_path, size)
    if cache:
        np.savez_compressed(cache, images=images, kept=np.array(kept), key=np.array(key))
    dropped = [emojis[i].name for i in range(len(emojis)) if i not in set(kept)]
    emojis = [emojis[i] for i in kept]
    split = family_split(emojis, val_fraction, seed)
    return {
        "images": images,  # uint8 [N, size, size, 3]
        "emojis": emojis,
        "split": split,
        "dropped": dropped,
        "emoji_test": test_path,
        "font": font_path,
        "font_sha256": file_sha256(font_path),
    }
