/**
 * How an opened model is named and told apart in the page (models.ts has the schemas; this
 * module has no zod).
 */

/** How the `source` of an "Open model…" library entry begins (the page offers "Add SAE…"
 * on such entries only). */
export const OPENED_MODEL_SOURCE = 'A Hugging Face';

/** Whether a pack is an "Open model…" entry (models.addSae takes it). */
export const isOpenedModel = (p: { location: string; kind: string; source: string }): boolean =>
  p.location === 'library' && p.kind === 'text-lm' && p.source.startsWith(OPENED_MODEL_SOURCE);

/** "blocks.0–11.hook_resid_pre/mid/post" rather than 36 names. */
export function describeHooks(hooks: readonly string[]): string {
  const layers = new Set<number>();
  const kinds = new Set<string>();
  for (const h of hooks) {
    const m = /^blocks\.(\d+)\.hook_(.+)$/.exec(h);
    if (!m) return hooks.join(', ');
    layers.add(Number(m[1]));
    kinds.add(m[2] as string);
  }
  if (layers.size === 0) return 'no hooks';
  const ls = [...layers].sort((a, b) => a - b);
  const range = ls.length === 1 ? `${ls[0]}` : `${ls[0]}–${ls[ls.length - 1]}`;
  // resid_pre, resid_mid, resid_post → resid_pre/mid/post
  const ks = [...kinds];
  const first = ks[0] as string;
  let common = first.slice(0, first.lastIndexOf('_') + 1);
  while (common && !ks.every((k) => k.startsWith(common))) common = common.slice(0, -1);
  const tails = ks.map((k, i) => (i === 0 ? k : k.slice(common.length)));
  return `blocks.${range}.hook_${tails.join('/')}`;
}
