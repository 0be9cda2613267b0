/**
 * Visual descriptors: what turning a feature up does to a picture or a line of letters,
 * measured from RGBA before (at rest) and after (turned up), and put in words a person
 * searches for ("redder", "darker", "heavier", "slanted", "wider").
 *
 * Colour: the mean change in an opponent colour plane (a = R − (G + B)/2,
 * b = (G − B)·√3/2) gives the hue the picture moves toward (0° red, 60° yellow, 120° green,
 * 180° cyan, 240° blue, 300° magenta) and how far (chroma); the dominant colour is the mean
 * colour, after, of the quarter of pixels that changed most. Lightness (luma), saturation
 * (HSV), contrast (luma standard deviation) and edge density (mean Sobel magnitude of luma)
 * are compared after − before.
 * Letters (grey, ink dark on light paper, one glyph per `cell` pixels across): ink share
 * (stroke weight), slant (the ink's shear: atan of cov(x, up) / var(up), per glyph) and width
 * (the ink's horizontal spread, per glyph).
 */

export interface Rgba {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface ImageMeasure {
  /** hue the picture moves toward, degrees, and how far (0–1 chroma units); null if grey */
  towardHue: number | null;
  towardChroma: number;
  /** mean colour of the most-changed quarter, after */
  dominant: [number, number, number];
  lightness: number;
  saturation: number;
  contrast: number;
  /** relative change of edge density (after / before − 1) */
  edges: number;
}

export interface GlyphMeasure {
  /** relative change of ink (after / before − 1) */
  ink: number;
  /** change of slant, degrees (positive: tops lean right) */
  slant: number;
  /** relative change of horizontal spread */
  width: number;
}

const luma = (r: number, g: number, b: number): number => 0.299 * r + 0.587 * g + 0.114 * b;

function stats(img: Rgba) {
  const n = img.width * img.height;
  const d = img.data;
  const L = new Float32Array(n);
  let sumL = 0;
  let sumS = 0;
  for (let i = 0; i < n; i++) {
    const r = (d[i * 4] ?? 0) / 255;
    const g = (d[i * 4 + 1] ?? 0) / 255;
    const b = (d[i * 4 + 2] ?? 0) / 255;
    const l = luma(r, g, b);
    L[i] = l;
    sumL += l;
    const mx = Math.max(r, g, b);
    sumS += mx > 0 ? (mx - Math.min(r, g, b)) / mx : 0;
  }
  const meanL = sumL / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += ((L[i] ?? 0) - meanL) ** 2;
  let edges = 0;
  const w = img.width;
  for (let y = 1; y < img.height - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const at = (dx: number, dy: number) => L[(y + dy) * w + x + dx] ?? 0;
      const gx = at(1, -1) + 2 * at(1, 0) + at(1, 1) - at(-1, -1) - 2 * at(-1, 0) - at(-1, 1);
      const gy = at(-1, 1) + 2 * at(0, 1) + at(1, 1) - at(-1, -1) - 2 * at(0, -1) - at(1, -1);
      edges += Math.hypot(gx, gy);
    }
  }
  return {
    L,
    lightness: meanL,
    saturation: sumS / n,
    contrast: Math.sqrt(v / n),
    edges: edges / Math.max(1, (img.width - 2) * (img.height - 2)),
  };
}

/** What changed from `before` to `after` (same size), in colour, light and texture. */
export function measureImage(before: Rgba, after: Rgba): ImageMeasure {
  const n = before.width * before.height;
  const a = stats(before);
  const b = stats(after);
  let da = 0;
  let db = 0;
  const diff = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const [r0, g0, b0] = [0, 1, 2].map((c) => (before.data[i * 4 + c] ?? 0) / 255) as [
      number,
      number,
      number,
    ];
    const [r1, g1, b1] = [0, 1, 2].map((c) => (after.data[i * 4 + c] ?? 0) / 255) as [
      number,
      number,
      number,
    ];
    da += r1 - (g1 + b1) / 2 - (r0 - (g0 + b0) / 2);
    db += (g1 - b1 - (g0 - b0)) * 0.8660254;
    diff[i] = Math.abs(r1 - r0) + Math.abs(g1 - g0) + Math.abs(b1 - b0);
  }
  da /= n;
  db /= n;
  const chroma = Math.hypot(da, db);
  const hue = ((Math.atan2(db, da) * 180) / Math.PI + 360) % 360;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (x, y) => (diff[y] ?? 0) - (diff[x] ?? 0),
  );
  const q = order.slice(0, Math.max(1, Math.floor(n / 4)));
  const dom = [0, 0, 0] as [number, number, number];
  for (const i of q) {
    for (let c = 0; c < 3; c++) dom[c] = (dom[c] ?? 0) + (after.data[i * 4 + c] ?? 0) / q.length;
  }
  return {
    towardHue: chroma > 1e-4 ? hue : null,
    towardChroma: chroma,
    dominant: dom.map((v) => Math.round(v)) as [number, number, number],
    lightness: b.lightness - a.lightness,
    saturation: b.saturation - a.saturation,
    contrast: b.contrast - a.contrast,
    edges: a.edges > 1e-6 ? b.edges / a.edges - 1 : 0,
  };
}

function glyphStats(img: Rgba, cell: number) {
  const w = img.width;
  const cells = Math.max(1, Math.floor(w / cell));
  let ink = 0;
  let slant = 0;
  let spread = 0;
  let counted = 0;
  for (let c = 0; c < cells; c++) {
    let m = 0;
    let sx = 0;
    let sy = 0;
    for (let y = 0; y < img.height; y++) {
      for (let x = c * cell; x < (c + 1) * cell; x++) {
        const v = 1 - (img.data[(y * w + x) * 4] ?? 255) / 255;
        m += v;
        sx += v * x;
        sy += v * y;
      }
    }
    ink += m;
    if (m < 1) continue;
    const cx = sx / m;
    const cy = sy / m;
    let cxy = 0;
    let cyy = 0;
    let cxx = 0;
    for (let y = 0; y < img.height; y++) {
      for (let x = c * cell; x < (c + 1) * cell; x++) {
        const v = 1 - (img.data[(y * w + x) * 4] ?? 255) / 255;
        const up = cy - y;
        cxy += v * (x - cx) * up;
        cyy += v * up * up;
        cxx += v * (x - cx) * (x - cx);
      }
    }
    slant += (Math.atan2(cxy, cyy) * 180) / Math.PI;
    spread += Math.sqrt(cxx / m);
    counted++;
  }
  return {
    ink: ink / (w * img.height),
    slant: counted ? slant / counted : 0,
    spread: counted ? spread / counted : 0,
  };
}

/** What changed in a line of letters: stroke weight, slant, width. */
export function measureGlyphs(before: Rgba, after: Rgba, cell: number): GlyphMeasure {
  const a = glyphStats(before, cell);
  const b = glyphStats(after, cell);
  return {
    ink: a.ink > 1e-6 ? b.ink / a.ink - 1 : 0,
    slant: b.slant - a.slant,
    width: a.spread > 1e-6 ? b.spread / a.spread - 1 : 0,
  };
}

// ------------------------------------------------------------------ colour names

const HUES: [number, string, string][] = [
  [15, 'red', 'redder'],
  [40, 'orange', 'more orange'],
  [70, 'yellow', 'yellower'],
  [165, 'green', 'greener'],
  [200, 'cyan', 'more cyan'],
  [255, 'blue', 'bluer'],
  [290, 'purple', 'more purple'],
  [335, 'pink', 'pinker'],
  [360, 'red', 'redder'],
];

export function hueName(h: number): { name: string; comparative: string } {
  for (const [upTo, name, comparative] of HUES) if (h < upTo) return { name, comparative };
  return { name: 'red', comparative: 'redder' };
}

export function hex([r, g, b]: readonly number[]): string {
  return `#${[r, g, b]
    .map((v) =>
      Math.max(0, Math.min(255, Math.round(v ?? 0)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/** A colour's everyday name (grey, white, black, or its hue with light/dark). */
export function colourName([r, g, b]: readonly number[]): string {
  const R = (r ?? 0) / 255;
  const G = (g ?? 0) / 255;
  const B = (b ?? 0) / 255;
  const mx = Math.max(R, G, B);
  const mn = Math.min(R, G, B);
  const l = (mx + mn) / 2;
  const s = mx === mn ? 0 : (mx - mn) / (1 - Math.abs(2 * l - 1));
  if (s < 0.15 || mx - mn < 0.08) return l > 0.85 ? 'white' : l < 0.15 ? 'black' : 'grey';
  const a = R - (G + B) / 2;
  const bb = (G - B) * 0.8660254;
  const h = ((Math.atan2(bb, a) * 180) / Math.PI + 360) % 360;
  const name = hueName(h).name;
  if (name === 'orange' && l < 0.35) return 'brown';
  return l < 0.25 ? `dark ${name}` : l > 0.8 ? `light ${name}` : name;
}

// ------------------------------------------------------------------ in words

export interface Descriptors {
  version: number;
  kind: 'image' | 'glyphs';
  /** the dial value (add, activation units) the effect was measured at, and as a multiple of
   * the feature's typical activation */
  strength: number;
  multiple: number;
  examples: number[];
  ssim: number;
  image?: ImageMeasure & { towardName: string | null; dominantHex: string; dominantName: string };
  glyphs?: GlyphMeasure;
  /** strongest first, for titles: "redder", "darker" */
  adjectives: string[];
  /** "redder (toward red, chroma 0.12)" */
  facts: string[];
  /** searchable words */
  words: string[];
}

interface Part {
  score: number;
  adjective: string;
  fact: string;
  words: string[];
}

const sign = (v: number, digits = 0): string =>
  `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`;

/** Words for an image effect; `score` of each part is its size over a visible threshold. */
export function imageWords(m: ImageMeasure): Part[] {
  const parts: Part[] = [];
  if (m.towardHue !== null && m.towardChroma >= 0.02) {
    const { name, comparative } = hueName(m.towardHue);
    parts.push({
      score: m.towardChroma / 0.02,
      adjective: comparative,
      fact: `${comparative} (hue toward ${name}, ${Math.round(m.towardHue)}°, ${hex(m.dominant)})`,
      words: [comparative, name, 'colour', 'color', 'hue', colourName(m.dominant)],
    });
  }
  if (Math.abs(m.lightness) >= 0.03) {
    const up = m.lightness > 0;
    parts.push({
      score: Math.abs(m.lightness) / 0.03,
      adjective: up ? 'lighter' : 'darker',
      fact: `${up ? 'lighter' : 'darker'} (${sign(m.lightness * 100)}% lightness)`,
      words: up ? ['lighter', 'brighter', 'light', 'bright'] : ['darker', 'dark', 'dimmer'],
    });
  }
  if (Math.abs(m.saturation) >= 0.04) {
    const up = m.saturation > 0;
    parts.push({
      score: Math.abs(m.saturation) / 0.04,
      adjective: up ? 'more colourful' : 'greyer',
      fact: `${up ? 'more saturated' : 'less saturated'} (${sign(m.saturation * 100)}%)`,
      words: up
        ? ['saturated', 'colourful', 'colorful', 'vivid']
        : ['greyer', 'grayer', 'muted', 'desaturated', 'washed'],
    });
  }
  if (Math.abs(m.contrast) >= 0.03) {
    const up = m.contrast > 0;
    parts.push({
      score: Math.abs(m.contrast) / 0.03,
      adjective: up ? 'more contrasty' : 'flatter',
      fact: `${up ? 'more' : 'less'} contrast (${sign(m.contrast * 100)}%)`,
      words: up ? ['contrast', 'contrasty', 'punchier'] : ['flatter', 'flat', 'low-contrast'],
    });
  }
  if (Math.abs(m.edges) >= 0.25) {
    const up = m.edges > 0;
    parts.push({
      score: Math.abs(m.edges) / 0.25,
      adjective: up ? 'busier' : 'smoother',
      fact: `${up ? 'more' : 'fewer'} edges (${sign(m.edges * 100)}%)`,
      words: up ? ['busier', 'detailed', 'sharper', 'edges'] : ['smoother', 'softer', 'blurrier'],
    });
  }
  return parts;
}

export function glyphWords(m: GlyphMeasure): Part[] {
  const parts: Part[] = [];
  if (Math.abs(m.ink) >= 0.08) {
    const up = m.ink > 0;
    parts.push({
      score: Math.abs(m.ink) / 0.08,
      adjective: up ? 'heavier' : 'lighter',
      fact: `${up ? 'heavier' : 'lighter'} strokes (${sign(m.ink * 100)}% ink)`,
      words: up
        ? ['heavier', 'bolder', 'bold', 'heavy', 'thicker', 'weight']
        : ['lighter', 'thinner', 'light', 'thin', 'weight'],
    });
  }
  if (Math.abs(m.slant) >= 3) {
    const right = m.slant > 0;
    parts.push({
      score: Math.abs(m.slant) / 3,
      adjective: right ? 'slanted' : 'upright',
      fact: right ? `slanted (${sign(m.slant)}°)` : `more upright (${sign(m.slant)}°)`,
      words: right
        ? ['slanted', 'slant', 'italic', 'oblique', 'leaning']
        : ['upright', 'straighter', 'roman'],
    });
  }
  if (Math.abs(m.width) >= 0.06) {
    const up = m.width > 0;
    parts.push({
      score: Math.abs(m.width) / 0.06,
      adjective: up ? 'wider' : 'narrower',
      fact: `${up ? 'wider' : 'narrower'} (${sign(m.width * 100)}% spread)`,
      words: up ? ['wider', 'wide', 'extended', 'expanded'] : ['narrower', 'narrow', 'condensed'],
    });
  }
  return parts;
}

/** Parts (strongest first) into adjectives, facts and words. */
export function summarize(parts: Part[]): Pick<Descriptors, 'adjectives' | 'facts' | 'words'> {
  const sorted = [...parts].sort((a, b) => b.score - a.score);
  return {
    adjectives: sorted.map((p) => p.adjective),
    facts: sorted.map((p) => p.fact),
    words: [...new Set(sorted.flatMap((p) => p.words))],
  };
}
