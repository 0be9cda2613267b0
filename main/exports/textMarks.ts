/**
 * Text exports with the difference marked in plain text, as `git diff --word-diff` writes it:
 * words the dials added as {+so+}, words they removed as [-so-].
 */
import { diffWords } from 'diff';

/** The after-text against the before-text, with additions and removals marked. */
export function markedDiff(
  before: string,
  after: string,
): { text: string; added: number; removed: number } {
  const words = (s: string): number => s.split(/\s+/).filter(Boolean).length;
  let added = 0;
  let removed = 0;
  const text = diffWords(before, after)
    .map((p) => {
      if (p.added) {
        added += words(p.value);
        return `{+${p.value}+}`;
      }
      if (p.removed) {
        removed += words(p.value);
        return `[-${p.value}-]`;
      }
      return p.value;
    })
    .join('');
  return { text, added, removed };
}

/** Tokens with each run of changed ones marked {+…+}. */
export function markedTokens(tokens: readonly string[], changed: readonly boolean[]): string {
  let out = '';
  let open = false;
  tokens.forEach((t, i) => {
    const c = changed[i] === true;
    if (c && !open) out += '{+';
    if (!c && open) out += '+}';
    open = c;
    out += t;
  });
  return open ? `${out}+}` : out;
}

const words = (n: number): string => `${n} word${n === 1 ? '' : 's'}`;

/** A step's text export: what the dials did, the marked continuation, then before and after. */
export function textStepExport(prompt: string, before: string, after: string): string {
  const d = markedDiff(before, after);
  return [
    `# Orrery text export: ${words(d.added)} added {+like this+}, ${d.removed} removed [-like this-]`,
    '',
    `${prompt}${d.text}`,
    '',
    '-- before (every dial at rest) --',
    `${prompt}${before}`,
    '',
    '-- after --',
    `${prompt}${after}`,
    '',
  ].join('\n');
}
