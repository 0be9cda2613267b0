"""Font discovery, metadata (fontTools) and glyph rendering (PIL) for the typeface recipe.

Every installed font file under the font roots is scanned; a face is kept when its cmap covers
the whole charset with real (non-empty) outlines and it is not a symbol/icon/math font. Faces are
deduplicated by PostScript name (the same face often ships as .ttf and .otf). Each glyph is drawn
at one fixed pixel size per em (so weight, width, x-height and slant stay visible), on a fixed
baseline, centred horizontally on its ink.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass, asdict, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
ENCODER_CHARS = "HOQagnorsx"  # a few distinctive glyphs: stems, bowls, tails, descenders
SIZE = 64
EM_PX = 46          # pixels per em, the same for every face
BASELINE_Y = 47     # baseline row (top = 0); ascenders reach ~13, descenders ~59
FONT_ROOTS = ["/usr/share/fonts"]
FONT_EXTS = (".ttf", ".otf")

EXCLUDE_NAME = re.compile(
    r"symbol|dingbat|awesome|icon|math|emoji|ornament|music|braille|dings|z003|"
    r"stixsizes|stixintegrals|stixvariants|stixnonunicode|stixgeneral.*(sizes)|powerline|"
    r"fallback|last ?resort|ocr-?a|3270",
    re.I,
)

WEIGHT_NAMES = {
    100: "thin", 200: "extralight", 300: "light", 400: "regular", 500: "medium",
    600: "semibold", 700: "bold", 800: "extrabold", 900: "black",
}


@dataclass
class Face:
    path: str
    name: str            # full name, e.g. "DejaVu Serif Bold"
    family: str          # typographic family
    postscript: str
    weight: int          # OS/2 usWeightClass (normalised to 100..900)
    weight_class: str
    italic: bool
    width: int           # OS/2 usWidthClass 1..9
    monospace: bool
    serif: str           # serif | sans | script | decorative | unknown
    panose_family: int
    panose_serif: int
    panose_proportion: int
    license: str         # short licence id
    license_text: str    # name table id 13 (first 300 chars) or copyright file summary
    package: str         # Debian package owning the file
    index: int = 0       # face index inside a collection
    extra: dict = field(default_factory=dict)

    def meta(self) -> dict:
        return {
            "family": self.family, "weight": self.weight, "weight_class": self.weight_class,
            "italic": self.italic, "width": self.width, "monospace": self.monospace,
            "serif": self.serif, "panose_family": self.panose_family,
            "panose_serif": self.panose_serif,
        }


def _name(tt, *ids):
    table = tt["name"]
    for nid in ids:
        for plat, enc, lang in ((3, 1, 0x409), (1, 0, 0), (3, 0, 0x409), (0, 3, 0), (0, 4, 0)):
            rec = table.getName(nid, plat, enc, lang)
            if rec is not None:
                try:
                    s = rec.toUnicode().strip()
                except Exception:
                    continue
                if s:
                    return s
        rec = next((r for r in table.names if r.nameID == nid), None)
        if rec is not None:
            try:
                s = rec.toUnicode().strip()
                if s:
                    return s
            except Exception:
                pass
    return ""


def normalise_weight(w: int) -> int:
    if 1 <= w <= 9:
        w *= 100
    w = int(round(max(100, min(900, w)) / 100.0) * 100)
    return w


def license_id(text: str) -> str:
    t = text.lower()
    if "open font license" in t or "ofl" in t.split() or "scripts.sil.org/ofl" in t or "openfontlicense" in t:
        return "OFL-1.1"
    if "apache" in t:
        return "Apache-2.0"
    if "ubuntu font licence" in t or "ubuntu font license" in t:
        return "UFL-1.0"
    if "bitstream vera" in t or "dejavu" in t and "changes" in t:
        return "Bitstream-Vera"
    if "gust font license" in t or "gust-font" in t:
        return "GFL"
    if "latex project public license" in t or "lppl" in t:
        return "LPPL-1.3c"
    if "agpl" in t or "affero" in t:
        return "AGPL-3.0"
    if "lgpl" in t or "lesser general public" in t:
        return "LGPL"
    if "font exception" in t and ("gpl" in t or "general public" in t):
        return "GPL-3.0+ with font exception" if "version 3" in t or "gplv3" in t else "GPL-2.0+ with font exception"
    if "gpl" in t or "general public license" in t:
        return "GPL"
    if "mit license" in t or "permission is hereby granted, free of charge" in t:
        return "MIT"
    if "bsd" in t:
        return "BSD"
    if "public domain" in t:
        return "public-domain"
    if "creative commons" in t or "cc-by" in t:
        return "CC-BY"
    return ""


_PKG_INDEX: dict | None = None


def debian_package(path: str) -> str:
    """Debian package owning a font file, from dpkg's file lists (much faster than dpkg -S)."""
    global _PKG_INDEX
    if _PKG_INDEX is None:
        _PKG_INDEX = {}
        for lst in glob.glob("/var/lib/dpkg/info/*.list"):
            pkg = os.path.basename(lst)[:-5].split(":")[0]
            try:
                with open(lst, errors="replace") as fh:
                    for line in fh:
                        line = line.rstrip("\n")
                        if line.startswith("/usr/share/fonts/") or line.startswith("/usr/share/texmf"):
                            _PKG_INDEX[line] = pkg
            except OSError:
                pass
        for p, pkg in list(_PKG_INDEX.items()):
            rp = os.path.realpath(p)
            _PKG_INDEX.setdefault(rp, pkg)
    return _PKG_INDEX.get(path) or _PKG_INDEX.get(os.path.realpath(path), "")


def copyright_license(pkg: str) -> str:
    """Licence id from /usr/share/doc/<pkg>/copyright (DEP-5 'License:' lines first)."""
    if not pkg:
        return ""
    p = f"/usr/share/doc/{pkg}/copyright"
    if not os.path.exists(p):
        return ""
    with open(p, errors="replace") as f:
        text = f.read()
    # DEP-5: the License of the 'Files: *' paragraph (first block that is not debian/*)
    blocks = re.split(r"\n\s*\n", text)
    for b in blocks:
        m_files = re.search(r"^Files:\s*(.+)$", b, re.M)
        m_lic = re.search(r"^License:\s*(.+)$", b, re.M)
        if m_files and m_lic and not m_files.group(1).strip().startswith("debian"):
            return m_lic.group(1).strip()
    return license_id(text) or ""


def _has_outline(font, ch) -> bool:
    try:
        mask = font.getmask(ch)
        return mask.size[0] > 0 and mask.size[1] > 0 and max(mask.getdata()) > 0
    except Exception:
        return False


def read_face(path: str, charset: str = CHARSET) -> Face | None:
    from fontTools.ttLib import TTFont

    try:
        tt = TTFont(path, lazy=True, fontNumber=0)
        cmap = tt.getBestCmap() or {}
    except Exception:
        return None
    if not all(ord(c) in cmap for c in charset):
        return None
    if "OS/2" not in tt or "post" not in tt or "head" not in tt:
        return None
    fam = _name(tt, 16, 1)
    sub = _name(tt, 17, 2)
    full = _name(tt, 4) or f"{fam} {sub}"
    ps = _name(tt, 6) or full.replace(" ", "")
    if not fam or EXCLUDE_NAME.search(full) or EXCLUDE_NAME.search(os.path.basename(path)):
        return None
    os2 = tt["OS/2"]
    post = tt["post"]
    head = tt["head"]
    weight = normalise_weight(int(getattr(os2, "usWeightClass", 400) or 400))
    width = int(getattr(os2, "usWidthClass", 5) or 5)
    width = min(9, max(1, width))
    fs_sel = int(getattr(os2, "fsSelection", 0))
    italic = bool(fs_sel & 1) or bool(head.macStyle & 2) or abs(float(post.italicAngle)) > 0.5 \
        or bool(re.search(r"italic|oblique|slanted|kursiv", full, re.I))
    pan = getattr(os2, "panose", None)
    p_fam = int(getattr(pan, "bFamilyType", 0)) if pan else 0
    p_serif = int(getattr(pan, "bSerifStyle", 0)) if pan else 0
    p_prop = int(getattr(pan, "bProportion", 0)) if pan else 0
    # monospace: the flag, PANOSE, or (checked on the real advances) every charset glyph equally wide
    hmtx = tt["hmtx"]
    advances = {hmtx[cmap[ord(c)]][0] for c in charset if cmap[ord(c)] in hmtx.metrics}
    mono = bool(post.isFixedPitch) or (p_fam == 2 and p_prop == 9) or len(advances) == 1
    if len(advances) > 3:      # a wrong flag (some fonts set isFixedPitch by mistake)
        mono = False
    weight_class = WEIGHT_NAMES[weight]
    lic_text = _name(tt, 13)
    lic = license_id(lic_text + " " + _name(tt, 14) + " " + _name(tt, 0))
    pkg = debian_package(path)
    serif = serif_style(p_fam, p_serif, f"{fam} {full}")
    if pkg == "fonts-aenigma" and serif == "unknown":
        serif = "decorative"   # Ray Larabie's display faces
    if not lic:
        lic = copyright_license(pkg)
    tt.close()
    return Face(path=path, name=full, family=fam, postscript=ps, weight=weight,
                weight_class=weight_class, italic=italic, width=width, monospace=mono,
                serif=serif, panose_family=p_fam, panose_serif=p_serif, panose_proportion=p_prop,
                license=lic or "see package copyright", license_text=lic_text[:300], package=pkg)


SANS_WORDS = re.compile(r"sans|gothic|grotesk|grotesque|\bgo\b|helvet|arial|verdana|tahoma|"
                        r"cantarell|roboto(?! slab)|open sans|lato|inter\b|carlito|cabin|dosis|"
                        r"quicksand|sora|manrope|spartan|karla|jura|comfortaa|b612|play\b|clear|"
                        r"oxygen|tuffy|allerta|yanone|bebas|hack|inconsolata|fira|jetbrains|mononoki|"
                        r"switzera|gillius|universalis|verana|tribun|andika|routed|league mono|"
                        r"national park|cantarell|opendin|din\b|ubuntu|garuda|loma|waree|umpush|"
                        r"sawasdee|avant|nimbus sans|adventor|heros|biolinum|pt sans|open ?dyslexic", re.I)
SERIF_WORDS = re.compile(r"serif|roman|times|garamond|libertine|baskerv|bodoni|didot|caslon|"
                         r"charis|gentium|doulos|caladea|cardo|vollkorn|old ?standard|century|"
                         r"schoolbook|palatino|bookman|pagella|termes|bonum|schola|cursor|courier|"
                         r"nimbus roman|nimbus mono|p052|c059|accanthis|berenis|irianis|libris|"
                         r"mekanus|oldania|romande|solothurn|ikarius|baskervald|stix|crimson|yrsa|"
                         r"rasa|elstob|fanwood|goudy|quattrocento|arapey|prociono|linden|gamaliel|"
                         r"roboto slab|pt serif|kinnari|norasi|laksaman|typewriter|tlwg typo|"
                         r"junicode|artemisia|neohellenic|latin modern|lm roman|lm mono|cmu|"
                         r"slab|bitter|antiqua|gotico", re.I)
SCRIPT_WORDS = re.compile(r"script|hand|lobster|kaushan|dancing|kristi|purisa|isabella|"
                          r"summersby|humor|comic|breip|femke|dkg|euterpe|tomson|dustin|"
                          r"georgewilliams|joscelyn|leckerli|rufscript|staypuft|chancery|z003|"
                          r"klaudia|berenika|millimetre|radis|blankenburg", re.I)


def serif_style(p_fam: int, p_serif: int, names: str) -> str:
    """Serif style from PANOSE (Latin text: bSerifStyle 2..10 serif, 11..13 sans, 14 flared,
    15 rounded; family kind 3 script, 4 decorative); PANOSE 0/1 (any/no fit) falls back to
    words in the names."""
    if p_fam == 3:
        return "script"
    if p_fam == 4:
        return "decorative"
    if p_fam == 2 and 2 <= p_serif <= 10:
        return "serif"
    if p_fam == 2 and 11 <= p_serif <= 13:
        return "sans"
    if p_fam == 2 and p_serif == 14:
        return "flared"
    if p_fam == 2 and p_serif == 15:
        return "rounded"
    if SCRIPT_WORDS.search(names):
        return "script"
    if SANS_WORDS.search(names):
        return "sans"
    if SERIF_WORDS.search(names):
        return "serif"
    return "unknown"


def _scan_cached(files, cache_path):
    """read_face over files, memoised on (path, size, mtime) in a JSON file (dpkg -S is slow)."""
    cache = {}
    if cache_path and os.path.exists(cache_path):
        with open(cache_path) as fh:
            cache = json.load(fh)
    out, changed = [], False
    for p in files:
        st = os.stat(p)
        key = f"{p}|{st.st_size}|{int(st.st_mtime)}"
        if key not in cache:
            f = read_face(p)
            cache[key] = asdict(f) if f else None
            changed = True
        if cache[key]:
            out.append(Face(**cache[key]))
    if cache_path and changed:
        os.makedirs(os.path.dirname(cache_path), exist_ok=True)
        with open(cache_path, "w") as fh:
            json.dump(cache, fh)
    return out


def discover_faces(roots=None, limit_files=None, per_family_cap=10, per_package_cap=40, seed=0,
                   log=print, cache_path=None):
    roots = roots or FONT_ROOTS
    files = []
    for r in roots:
        for ext in FONT_EXTS:
            files += glob.glob(os.path.join(r, "**", "*" + ext), recursive=True)
            files += glob.glob(os.path.join(r, "**", "*" + ext.upper()), recursive=True)
    # prefer .ttf over .otf for the same face (identical outlines, simpler hinting path)
    files = sorted(set(os.path.realpath(f) for f in files), key=lambda p: (p.lower().endswith(".otf"), p))
    if limit_files:
        files = files[:limit_files]
    seen, faces = set(), []
    for f in _scan_cached(files, cache_path):
        key = f.postscript.lower()
        if key in seen:
            continue
        seen.add(key)
        faces.append(f)
    # cap each family (Noto ships dozens of weights x widths per family), seeded so it is stable
    rng = np.random.RandomState(seed)
    by_fam: dict = {}
    for f in sorted(faces, key=lambda f: f.postscript):
        by_fam.setdefault(f.family, []).append(f)
    kept = []
    for fam in sorted(by_fam):
        lst = by_fam[fam]
        if len(lst) > per_family_cap:
            # always keep the regular/bold/italic core, fill the rest at random
            core = [f for f in lst if f.width == 5 and f.weight in (400, 700)]
            rest = [f for f in lst if f not in core]
            rng.shuffle(rest)
            lst = (core + rest)[:per_family_cap]
        kept += lst
    # cap each Debian package too (fonts-aenigma alone ships ~450 display faces)
    by_pkg: dict = {}
    for f in kept:
        by_pkg.setdefault(f.package, []).append(f)
    kept = []
    for pkg in sorted(by_pkg):
        lst = by_pkg[pkg]
        if len(lst) > per_package_cap:
            idx = rng.permutation(len(lst))[:per_package_cap]
            lst = [lst[i] for i in sorted(idx)]
        kept += lst
    log(f"fonts: {len(files)} files scanned, {len(faces)} faces cover the charset, "
        f"{len(kept)} kept in {len(set(f.family for f in kept))} families "
        f"(cap {per_family_cap}/family, {per_package_cap}/package)")
    return sorted(kept, key=lambda f: f.postscript)


def render_face(face: Face, charset: str = CHARSET) -> np.ndarray | None:
    """[len(charset), SIZE, SIZE] uint8, 255 = full ink. None when a glyph is blank."""
    try:
        font = ImageFont.truetype(face.path, size=EM_PX, index=face.index,
                                  layout_engine=ImageFont.Layout.BASIC)
    except Exception:
        return None
    out = np.zeros((len(charset), SIZE, SIZE), np.uint8)
    for i, ch in enumerate(charset):
        # draw on a big canvas with the baseline at a known row, then cut a SIZE box around it
        canvas = Image.new("L", (SIZE * 3, SIZE * 2), 0)
        d = ImageDraw.Draw(canvas)
        d.text((SIZE, SIZE + BASELINE_Y), ch, fill=255, font=font, anchor="ls")
        arr = np.asarray(canvas)
        cols = np.nonzero(arr.max(0))[0]
        if len(cols) == 0:
            return None
        cx = (cols[0] + cols[-1] + 1) / 2.0
        x0 = int(round(cx - SIZE / 2))
        box = arr[SIZE:SIZE * 2, x0:x0 + SIZE]
        if box.max() == 0:
            return None
        out[i] = box
    return out


def face_digest(faces) -> str:
    h = hashlib.sha1()
    for f in faces:
        h.update(f.postscript.encode())
        try:
            h.update(str(os.path.getsize(f.path)).encode())
        except OSError:
            pass
    h.update(f"{EM_PX},{BASELINE_Y},{SIZE},{CHARSET}".encode())
    return h.hexdigest()[:12]


def build_dataset(cache_dir: str, per_family_cap=10, per_package_cap=40, limit_files=None, seed=0,
                  log=print):
    """Returns (faces: list[Face], glyphs: uint8 [F, C, 64, 64]); cached on disk."""
    faces = discover_faces(limit_files=limit_files, per_family_cap=per_family_cap,
                           per_package_cap=per_package_cap, seed=seed, log=log,
                           cache_path=os.path.join(cache_dir, "scan-cache.json"))
    os.makedirs(cache_dir, exist_ok=True)
    dig = face_digest(faces)
    npz = os.path.join(cache_dir, f"glyphs-{dig}.npz")
    js = os.path.join(cache_dir, f"faces-{dig}.json")
    if os.path.exists(npz) and os.path.exists(js):
        g = np.load(npz)["glyphs"]
        with open(js) as fh:
            faces = [Face(**d) for d in json.load(fh)]
        log(f"data: cached {npz} ({len(faces)} faces)")
        return faces, g
    kept, arrs = [], []
    for f in faces:
        a = render_face(f)
        if a is None:
            continue
        # reject faces whose glyphs overflow badly (ink on the box edges) or are near-empty
        edge = np.concatenate([a[:, 0, :], a[:, -1, :], a[:, :, 0], a[:, :, -1]], 1).astype(np.float32)
        if edge.mean() > 20 or (a.reshape(len(a), -1).max(1) < 64).any():
            log(f"data: dropped {f.name} (clipped or empty glyphs)")
            continue
        kept.append(f)
        arrs.append(a)
    # drop exact duplicates (same outlines shipped under two names)
    uniq, seen = [], {}
    for f, a in zip(kept, arrs):
        k = hashlib.sha1(a.tobytes()).hexdigest()
        if k in seen:
            continue
        seen[k] = f.name
        uniq.append((f, a))
    faces = [f for f, _ in uniq]
    g = np.stack([a for _, a in uniq]) if uniq else np.zeros((0, len(CHARSET), SIZE, SIZE), np.uint8)
    np.savez_compressed(npz, glyphs=g)
    with open(js, "w") as fh:
        json.dump([asdict(f) for f in faces], fh)
    log(f"data: rendered {len(faces)} faces -> {npz}")
    return faces, g
