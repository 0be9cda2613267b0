/**
 * Plain titles: what a feature is, in a short phrase a person reads, and a one-line
 * description from the same evidence (index stage "titles", after the labels). The technical
 * evidence (key=value, AUC, chance) stays stored beside it, one click away on the card.
 *
 * Which evidence names the feature, in order:
 * - metadata the feature passes the label rule for (labels.ts), in words (vocab.ts), when its
 *   AUC is at least CLEAR_AUC;
 * - what it does (image and typeface packs: the measured effect, descriptors.ts) or what it
 *   fires on (text: its peak tokens, and where: "in Bible verses");
 * - a weaker metadata label (AUC under CLEAR_AUC), when nothing clearer is known;
 * - the names of its top examples, as "Emoji like …".
 * Each title names a concept (metadata value, effect, token); a cluster badge is built from
 * its members' concepts the same way (clusterBadge), so the two speak the same words.
 */
import { formatCount, formatFeatures } from '../../../preload/contract/counts';
import { PAIR_SEPARATOR, type Association } from './associations';
import type { WeightedToken } from './labels';
import { metaPhrase, SOURCE_PLACE, type PackKind } from './vocab';

/** A metadata association weaker than this never wins over a token or visual description. */
export const CLEAR_AUC = 0.7;

export type TitleSource = 'metadata' | 'top-tokens' | 'top-examples' | 'visual';

/** What the descriptors stage measured (the parts titles use). */
export interface EffectSummary {
  /** Adjectives, strongest first: "redder", "darker", "heavier", "slanted". */
  adjectives: string[];
  /** Short facts: "redder (+38° hue, toward red #c0392b)". */
  facts: string[];
}

export interface TitleInput {
  kind: PackKind;
  /** The metadata value (or pair) the label pass chose for it, if any. */
  chosen: Association | null;
  tokens: readonly WeightedToken[];
  /** Text: the whole words the peak tokens sit in ("bene" → "beneath"), weighted alike. */
  words?: readonly WeightedToken[];
  tops: readonly { name: string; meta: Record<string, string> }[];
  effect: EffectSummary | null;
  /** The first metadata key (text: "source"), to say where tokens fire. */
  placeKey: string | null;
  /** For a value, the broader value it sits inside ("book=Ezra" → "source=bible"). */
  parents: ReadonlyMap<string, string>;
}

export interface Title {
  title: string;
  description: string;
  source: TitleSource;
  /** "subgroup=family", "effect:redder", "token:love", "examples:…": for cluster badges. */
  concept: string;
  /** Every concept the title names, `concept` first ("Makes letters upright and heavier":
   * effect:upright, effect:heavier). */
  concepts: string[];
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

export function conceptOf(a: Association): string {
  return `${a.key}=${a.value}`;
}

/** The phrase for a metadata association (a pair reads "a & b"). */
export function associationPhrase(
  kind: PackKind,
  a: Pick<Association, 'key' | 'value'>,
  parents: ReadonlyMap<string, string>,
) {
  const values = a.value.split(PAIR_SEPARATOR);
  const parent = parents.get(`${a.key}=${values[0] ?? ''}`);
  const source = parent?.startsWith('source=') ? parent.slice('source='.length) : null;
  return metaPhrase(kind, a.key, values, source);
}

// ------------------------------------------------------------------ tokens in words

const PUNCT: Record<string, [string, string]> = {
  ':': ['colon', 'colons'],
  ';': ['semicolon', 'semicolons'],
  ',': ['comma', 'commas'],
  '.': ['full stop', 'full stops'],
  '!': ['exclamation mark', 'exclamation marks'],
  '?': ['question mark', 'question marks'],
  '"': ['quotation mark', 'quotation marks'],
  "'": ['apostrophe', 'apostrophes'],
  '(': ['opening bracket', 'opening brackets'],
  ')': ['closing bracket', 'closing brackets'],
  '[': ['square bracket', 'square brackets'],
  ']': ['square bracket', 'square brackets'],
  '-': ['hyphen', 'hyphens'],
  '--': ['dash', 'dashes'],
  '\\': ['backslash', 'backslashes'],
  '*': ['asterisk', 'asterisks'],
  '/': ['slash', 'slashes'],
  '\n': ['line break', 'line breaks'],
  '\n\n': ['blank line', 'blank lines'],
  ' ': ['space', 'spaces'],
};

interface TokenWord {
  shown: string;
  weight: number;
  /** punctuation or whitespace, named */
  named: string | null;
  /** a word piece glued to what comes before it ("ness" in "good|ness") */
  piece: boolean;
}

function tokenWords(tokens: readonly WeightedToken[]): TokenWord[] {
  const seen = new Map<string, TokenWord>();
  for (const t of tokens) {
    const raw = t.token;
    const trimmed = raw.trim();
    const key = trimmed === '' ? raw : trimmed.toLowerCase();
    const prev = seen.get(key);
    if (prev) {
      prev.weight += t.weight;
      continue;
    }
    const namedEntry = PUNCT[trimmed === '' ? raw.replace(/ +/g, ' ') : trimmed];
    seen.set(key, {
      shown: trimmed || raw,
      weight: t.weight,
      named: namedEntry ? namedEntry[1] : /^[^\p{L}\p{N}]+$/u.test(trimmed) ? null : null,
      piece: /^\p{Ll}/u.test(raw) && !raw.startsWith(' '),
    });
  }
  return [...seen.values()].sort((a, b) => b.weight - a.weight);
}

const quote = (s: string): string => `‘${s}’`;

function joinAnd(parts: readonly string[]): string {
  if (parts.length <= 1) return parts[0] ?? '';
  return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

/**
 * Where the top examples mostly come from: one value with share ≥ 0.6 of those with the key,
 * else two that together hold ≥ 0.75 (each ≥ 0.2): "in Bible verses and fortune cookies".
 */
function placeOf(
  input: TitleInput,
): { value: string; share: number; n: number; also?: { value: string; share: number } } | null {
  if (!input.placeKey) return null;
  const c = new Map<string, number>();
  let n = 0;
  for (const t of input.tops) {
    const v = t.meta[input.placeKey];
    if (v === undefined) continue;
    n++;
    c.set(String(v), (c.get(String(v)) ?? 0) + 1);
  }
  // most first, ties by value (stable across runs)
  const ranked = [...c.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const best = ranked[0];
  if (!best || n < 3) return null;
  if (best[1] / n >= 0.6) return { value: best[0], share: best[1] / n, n };
  const second = ranked[1];
  if (second && (best[1] + second[1]) / n >= 0.75 && second[1] / n >= 0.2) {
    return {
      value: best[0],
      share: best[1] / n,
      n,
      also: { value: second[0], share: second[1] / n },
    };
  }
  return null;
}

function placeWords(kind: PackKind, key: string, value: string): string {
  if (key === 'source' && SOURCE_PLACE[value]) return SOURCE_PLACE[value];
  return metaPhrase(kind, key, [value]).noun;
}

function tokenTitle(
  input: TitleInput,
): { title: string; description: string; concept: string } | null {
  const pieces = tokenWords(input.tokens).filter((w) => w.shown !== '');
  const words = tokenWords(input.words ?? input.tokens).filter((w) => w.shown !== '');
  if (words.length === 0 || pieces.length === 0) return null;
  const total = words.reduce((s, w) => s + w.weight, 0) || 1;
  const first = words[0] as TokenWord;
  const shown = words.slice(0, 3);
  const place = placeOf(input);
  const where = place
    ? place.also
      ? `${placeWords(input.kind, input.placeKey ?? '', place.value)} and ${placeWords(input.kind, input.placeKey ?? '', place.also.value)}`
      : placeWords(input.kind, input.placeKey ?? '', place.value)
    : null;
  const cap1 = (x: string): string => x.charAt(0).toUpperCase() + x.slice(1);
  let head: string;
  if (shown.slice(0, 2).every((w) => w.named)) {
    head = cap1(joinAnd([...new Set(shown.map((w) => w.named as string))].slice(0, 2)));
  } else if (first.weight / total >= 0.6 || shown.length === 1) {
    if (first.named) head = cap1(first.named);
    else if (/^\p{N}+$/u.test(first.shown)) head = `The number ${quote(first.shown)}`;
    else if (/\p{L}/u.test(first.shown)) head = `The word ${quote(first.shown)}`;
    else head = `The sign ${quote(first.shown)}`;
  } else {
    head = `${shown.slice(0, 2).some((w) => w.named) ? 'Words and signs' : 'Words'} like ${shown
      .slice(0, 2)
      .map((w) => w.named ?? quote(w.shown))
      .join(', ')}`;
  }
  const title = where ? `${head} in ${where}` : head;
  const list = (ws: readonly TokenWord[]) => ws.map((w) => w.named ?? quote(w.shown)).join(', ');
  const samePieces = pieces
    .slice(0, 3)
    .every((p, i) => p.shown.toLowerCase() === shown[i]?.shown.toLowerCase());
  const fires = samePieces ? `Fires on ${list(shown)}` : `Fires inside ${list(shown)}`;
  const description =
    fires +
    (place && where
      ? ` — mostly in ${where} (${Math.round((place.share + (place.also?.share ?? 0)) * place.n)} of its ${place.n} strongest examples)`
      : ' — across the corpus');
  const concept =
    place && input.placeKey
      ? `${input.placeKey}=${place.value}`
      : `token:${first.named ?? first.shown.toLowerCase()}`;
  return { title, description, concept };
}

/**
 * The whole word a text window's focus token sits in: the token, the word pieces before it
 * back to a space, and those after it up to the next space or sign.
 */
export function focusWord(tokens: readonly string[], focus: number): string | null {
  const at = tokens[focus];
  if (at === undefined) return null;
  const letter = (t: string | undefined) => t !== undefined && /^\p{L}/u.test(t);
  let start = focus;
  while (start > 0 && letter(tokens[start]) && letter((tokens[start - 1] ?? '').slice(-1))) start--;
  let end = focus + 1;
  while (end < tokens.length && letter(tokens[end]) && /\p{L}$/u.test(tokens[end - 1] ?? '')) end++;
  if (!/\p{L}/u.test(at)) return at;
  return tokens.slice(start, end).join('').trim() || at;
}

// ------------------------------------------------------------------ the title

function metadataWords(input: TitleInput, a: Association) {
  const p = associationPhrase(input.kind, a, input.parents);
  const description =
    `${pct(a.precisionTop)} of its strongest examples are ${p.noun} ` +
    `(${a.nPositive} in the corpus; it ranks them above the rest with AUC ${a.auc.toFixed(2)})`;
  return { title: p.title, noun: p.noun, description };
}

function examplesNoun(kind: PackKind): string {
  return kind === 'glyph-cvae' ? 'Faces' : kind === 'image-vae' ? 'Pictures' : 'Examples';
}

/** How many of a feature's measured adjectives (strongest first) a title may name: two of its
 * own, a third only when it is what the feature's cluster badge names (titleNaming). */
const TITLE_ADJECTIVES = 2;
const NAMEABLE_ADJECTIVES = 3;

/**
 * The plain title and description of one feature (null: it never fired). `naming`: a concept
 * the title should also name when the feature's own evidence holds it (its cluster badge's:
 * a measured adjective just past the two a title names by itself).
 */
export function plainTitle(input: TitleInput, naming: string | null = null): Title | null {
  const chosen = input.chosen;
  const tokens = input.kind === 'text-lm' ? tokenTitle(input) : null;
  const effect = input.effect && input.effect.adjectives.length > 0 ? input.effect : null;
  const clear = chosen !== null && chosen.auc >= CLEAR_AUC;
  const topNames = [...new Set(input.tops.map((t) => t.name).filter(Boolean))].slice(0, 3);
  const what = input.kind === 'glyph-cvae' ? 'letters' : 'the picture';
  const wanted = naming?.startsWith('effect:') ? naming.slice('effect:'.length) : null;
  if (chosen && clear) {
    const m = metadataWords(input, chosen);
    const extra = tokens
      ? `. ${tokens.description}`
      : effect
        ? `. Turned up: ${effect.facts.slice(0, 2).join(', ')}`
        : '';
    // its measured effect, named too when its cluster's badge names it ("Italic faces — makes
    // letters slanted")
    const also =
      wanted && effect?.adjectives.slice(0, NAMEABLE_ADJECTIVES).includes(wanted) ? wanted : null;
    return {
      title: also ? `${m.title} — makes ${what} ${also}` : m.title,
      description: `${m.description}${extra}`,
      source: 'metadata',
      concept: conceptOf(chosen),
      concepts: also ? [conceptOf(chosen), `effect:${also}`] : [conceptOf(chosen)],
    };
  }
  const weak = chosen
    ? `; weakly linked to ${associationPhrase(input.kind, chosen, input.parents).noun} (AUC ${chosen.auc.toFixed(2)})`
    : '';
  if (tokens) {
    const same = chosen && tokens.concept === conceptOf(chosen);
    return {
      title: tokens.title,
      description: `${tokens.description}${same ? '' : weak}`,
      source: 'top-tokens',
      concept: tokens.concept,
      concepts: [tokens.concept],
    };
  }
  if (effect) {
    const reach = effect.adjectives.slice(0, NAMEABLE_ADJECTIVES);
    const adj =
      wanted && reach.includes(wanted) ? reach : effect.adjectives.slice(0, TITLE_ADJECTIVES);
    const fires = topNames.length ? `; fires most on ${topNames.join(', ')}` : '';
    return {
      title: `Makes ${what} ${joinAnd(adj)}`,
      description: `Turned up: ${effect.facts.slice(0, 3).join(', ')}${fires}${weak}`,
      source: 'visual',
      concept: `effect:${adj[0] ?? ''}`,
      concepts: adj.map((a) => `effect:${a}`),
    };
  }
  if (chosen) {
    const m = metadataWords(input, chosen);
    return {
      title: m.title,
      description: m.description,
      source: 'metadata',
      concept: conceptOf(chosen),
      concepts: [conceptOf(chosen)],
    };
  }
  if (topNames.length > 0) {
    const shown = topNames.slice(0, 2);
    return {
      title: `${examplesNoun(input.kind)} like ${shown.join(' and ')}`,
      description: `Fires most on ${topNames.join(', ')}; no metadata or measured effect explains it yet`,
      source: 'top-examples',
      concept: `examples:${shown[0] ?? ''}`,
      concepts: [`examples:${shown[0] ?? ''}`],
    };
  }
  return null;
}

/**
 * The concepts a feature's title could name from its own evidence: those its title names, and
 * a measured adjective (of its three strongest) it would name when its cluster asks
 * (plainTitle's `naming`), for a title from its effect or from clear metadata.
 */
export function nameableConcepts(input: TitleInput, title: Title): string[] {
  const out = [...title.concepts];
  const clearMetadata = title.source === 'metadata' && (input.chosen?.auc ?? 0) >= CLEAR_AUC;
  if ((title.source === 'visual' || clearMetadata) && input.effect) {
    for (const a of input.effect.adjectives.slice(0, NAMEABLE_ADJECTIVES)) {
      if (!out.includes(`effect:${a}`)) out.push(`effect:${a}`);
    }
  }
  return out;
}

// ------------------------------------------------------------------ plain-phrase check

/** A title a person reads: not key=value, not a bare list of quoted tokens, not empty. */
export function isPlainPhrase(title: string | null): boolean {
  if (!title || !title.trim()) return false;
  if (/^[\w.-]+\s*=\s*\S/.test(title)) return false;
  // a bare token list: only quoted pieces, commas and spaces
  if (/^(\s*[“‘"][^”’"]*[”’"]\s*,?)+\s*$/.test(title)) return false;
  return true;
}

// ------------------------------------------------------------------ cluster badges

export interface BadgeMember {
  /** What its title names or could name from its own evidence (nameableConcepts); empty: no
   * title. */
  concepts: readonly string[];
}

export interface Badge {
  label: string;
  /** The concept the badge names (null: a mixed cluster). */
  concept: string | null;
}

/** How a feature stands to its cluster's badge: its title names the badge's concept (or one
 * inside it), the badge names something else (the card says "not this one"), or the badge is
 * mixed and claims nothing. */
export type BadgeRelation = 'names' | 'other' | 'mixed';

/** A concept and every broader one it sits inside. */
export function conceptChain(concept: string, parents: ReadonlyMap<string, string>): string[] {
  const out = [concept];
  // a pair concept "k=a | b" sits inside the parent both halves share
  const eq = concept.indexOf('=');
  if (eq > 0 && concept.includes(PAIR_SEPARATOR)) {
    const key = concept.slice(0, eq);
    const ps = concept
      .slice(eq + 1)
      .split(PAIR_SEPARATOR)
      .map((v) => parents.get(`${key}=${v}`));
    if (ps[0] && ps.every((p) => p === ps[0])) out.push(ps[0]);
  }
  let c = out[out.length - 1] as string;
  for (let i = 0; i < 4; i++) {
    const p = parents.get(c);
    if (!p || out.includes(p)) break;
    out.push(p);
    c = p;
  }
  return out;
}

/** Concepts with every broader one they sit inside, each once, in order (stored per feature as
 * what its title names, so a card can tell whether its badge is about it). */
export function conceptsWithParents(
  concepts: readonly string[],
  parents: ReadonlyMap<string, string>,
): string[] {
  return [...new Set(concepts.flatMap((c) => conceptChain(c, parents)))];
}

/**
 * A cluster's badge, in the titles' own words: the concept most of its live (titled) members
 * name or could name from their own evidence (or sit inside), with how many: "Country flags ·
 * 9 of 12 live features"; each of those members' titles is then made to name it (plainTitle's
 * `naming`), so the count is of titles that say it. When no concept covers at least `majority`
 * of them (a clear majority: a badge for half its members would be "not this one" on the other
 * half's cards): "Mixed: country flags, family emoji … · 43 features".
 */
export function clusterBadge(
  members: readonly BadgeMember[],
  id: number,
  phraseOf: (concept: string) => { title: string; noun: string } | null,
  parents: ReadonlyMap<string, string>,
  majority = 0.6,
): Badge {
  const count = new Map<string, number>();
  const depth = new Map<string, number>();
  const titled = members.filter((m) => m.concepts.length > 0);
  for (const m of titled) {
    const seen = new Set<string>();
    for (const concept of m.concepts) {
      conceptChain(concept, parents).forEach((c, d) => {
        depth.set(c, Math.min(depth.get(c) ?? d, d));
        if (seen.has(c)) return;
        seen.add(c);
        count.set(c, (count.get(c) ?? 0) + 1);
      });
    }
  }
  const ranked = [...count.entries()]
    .filter(([c]) => phraseOf(c) !== null)
    .sort(
      (a, b) =>
        b[1] - a[1] || (depth.get(a[0]) ?? 0) - (depth.get(b[0]) ?? 0) || (a[0] < b[0] ? -1 : 1),
    );
  const n = members.length;
  const best = ranked[0];
  if (best && best[1] >= 2 && best[1] >= majority * titled.length) {
    return {
      label: `${phraseOf(best[0])?.title ?? best[0]} · ${formatCount(best[1])} of ${formatCount(titled.length)} live features`,
      concept: best[0],
    };
  }
  if (ranked.length === 0) return { label: `Cluster ${id} · ${formatFeatures(n)}`, concept: null };
  const names = ranked.slice(0, 2).map(([c]) => phraseOf(c)?.noun ?? c);
  return { label: `Mixed: ${names.join(', ')} … · ${formatFeatures(n)}`, concept: null };
}

/** How a title (the concepts it names) stands to its cluster's badge. */
export function badgeRelation(
  concepts: readonly string[],
  badgeConcept: string | null,
  parents: ReadonlyMap<string, string>,
): BadgeRelation {
  if (badgeConcept === null) return 'mixed';
  return conceptsWithParents(concepts, parents).includes(badgeConcept) ? 'names' : 'other';
}

/**
 * Parent values from the corpus: value v of key K sits inside value w of key L when (almost)
 * every example with v has w and w is broader (more examples).
 */
export function metaParents(
  examples: readonly { meta: Record<string, unknown> }[],
  keys: readonly string[],
): Map<string, string> {
  const counts = new Map<string, number>();
  const co = new Map<string, Map<string, number>>();
  for (const e of examples) {
    const kv = keys
      .filter((k) => e.meta[k] !== undefined && e.meta[k] !== null)
      .map((k) => `${k}=${String(e.meta[k])}`);
    for (const a of kv) {
      counts.set(a, (counts.get(a) ?? 0) + 1);
      let m = co.get(a);
      if (!m) co.set(a, (m = new Map()));
      for (const b of kv)
        if (b !== a && b.split('=')[0] !== a.split('=')[0]) m.set(b, (m.get(b) ?? 0) + 1);
    }
  }
  const nested = new Map<string, string>();
  for (const [a, m] of co) {
    const na = counts.get(a) ?? 0;
    let best: [string, number] | null = null;
    for (const [b, k] of m) {
      const nb = counts.get(b) ?? 0;
      if (k >= 0.95 * na && nb > na && (!best || nb < (counts.get(best[0]) ?? 0))) best = [b, k];
    }
    if (best) nested.set(a, best[0]);
  }
  // only keys that nest as a whole (subgroup in group, book in source), not chance overlaps
  // of independent keys (a weight that happens to be all upright)
  const keyOf = (s: string): string => s.slice(0, s.indexOf('='));
  const values = new Map<string, number>();
  const nestedIn = new Map<string, number>();
  for (const a of counts.keys()) values.set(keyOf(a), (values.get(keyOf(a)) ?? 0) + 1);
  for (const [a, b] of nested) {
    const pair = `${keyOf(a)}>${keyOf(b)}`;
    nestedIn.set(pair, (nestedIn.get(pair) ?? 0) + 1);
  }
  const out = new Map<string, string>();
  for (const [a, b] of nested) {
    const share = (nestedIn.get(`${keyOf(a)}>${keyOf(b)}`) ?? 0) / (values.get(keyOf(a)) ?? 1);
    if (share >= 0.7) out.set(a, b);
  }
  return out;
}
