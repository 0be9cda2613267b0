/**
 * How a bridge's method is named on the page: its score, a cosine (of decoder directions, or of
 * effects on the logits) or a Pearson r (correlation of activations); what it matches by, in
 * words and in one plain sentence.
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

/** What the bridge matches features by, in a few words ("match by …"). */
export function methodWords(method: BridgeMethodName): string {
  return method === 'decoder'
    ? 'decoder direction'
    : method === 'effect'
      ? 'effect on the next tokens'
      : 'activations';
}

/** The method in one plain sentence. */
export function methodSentence(method: BridgeMethodName): string {
  return method === 'decoder'
    ? 'Features that write one direction into the stream.'
    : method === 'effect'
      ? 'Features that push the next-token guesses alike.'
      : 'Features whose activations rise and fall together.';
}

/** The methods of a pair, in one order: decoder, correlation, effect. */
export function orderedMethods(...lists: readonly BridgeMethodName[][]): BridgeMethodName[] {
  const all = new Set(lists.flat());
  return (['decoder', 'correlation', 'effect'] as const).filter((m) => all.has(m));
}
