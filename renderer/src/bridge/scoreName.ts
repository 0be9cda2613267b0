/**
 * How a bridge's score is named on the page, by the bridge's method: a cosine (of decoder
 * directions, or of effects on the logits) or a Pearson r (correlation of activations).
 */
export type BridgeMethodName = 'decoder' | 'correlation' | 'effect';

/** 'cosine' or 'r' ('cos' or 'r' when short). */
export function scoreName(method: BridgeMethodName | null, short = false): string {
  if (method === 'correlation' || method === null) return 'r';
  return short ? 'cos' : 'cosine';
}

/** What the score measures, for a tooltip. */
export function methodTitle(method: BridgeMethodName): string {
  return method === 'decoder'
    ? 'decoder cosine'
    : method === 'effect'
      ? 'cosine of the effects on the logits'
      : 'correlation';
}
