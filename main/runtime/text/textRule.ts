/**
 * How a text becomes the ids a text model reads, written once for every reader: the engines'
 * generate, active and selections, and the index build (main/index/build/activations).
 * - BOS first when the model has one (the manifest's bos_token_id, from config.json for a
 *   Hugging Face model) and the SAE read texts that began with it (SAELens prepend_bos,
 *   default true); otherwise the text's ids alone. No id is ever assumed to be BOS.
 * - The rows an SAE reads leave out the BOS position (its activation is the same for every
 *   text); without BOS every token is a row.
 * - A prompt a person types is rejected when it does not fit the model's context (never cut
 *   silently); a corpus text (index build, selections over examples) is read in its first
 *   window, at most min(context, the SAE's context_size) ids, and the reader is told how many
 *   ids it left out.
 */
import { OrreryError } from '../../../preload/contract/result';

export interface TextRule {
  /** The model's BOS id, undefined when it has none. */
  bos: number | undefined;
  /** The model's context in tokens. */
  context: number;
}

/** The ids a model reads for a text's ids: BOS first when the model has one and `prependBos`. */
export function withBos(
  ids: readonly number[],
  bos: number | undefined,
  prependBos = true,
): number[] {
  return bos === undefined || !prependBos ? [...ids] : [bos, ...ids];
}

/** The first row an SAE reads of `ids`: 1 when ids[0] is the model's BOS, else 0. */
export function firstReadRow(ids: readonly number[], bos: number | undefined): 0 | 1 {
  return bos !== undefined && ids.length > 0 && ids[0] === bos ? 1 : 0;
}

/** Throws bad_input unless a typed prompt of `length` ids leaves `room` positions in the context. */
export function checkPromptFits(length: number, context: number, room: 0 | 1): void {
  if (length === 0) {
    throw new OrreryError('bad_input', 'the prompt is empty and this model has no BOS token');
  }
  const most = context - room;
  if (length > most) {
    throw new OrreryError(
      'bad_input',
      `the prompt is ${length} tokens; this model's context is ${context} tokens, ` +
        `so a prompt may have at most ${most} (shorten it)`,
    );
  }
}

/** The window a corpus text is read in: at most min(context, the SAE's context_size) ids. */
export function readWindow(rule: TextRule, saeContext: number | null): number {
  return saeContext === null ? rule.context : Math.min(rule.context, saeContext);
}

/** A corpus text's ids cut to `window`, and how many were left out. */
export function corpusWindow(
  ids: readonly number[],
  window: number,
): { ids: number[]; cut: number } {
  return ids.length <= window
    ? { ids: [...ids], cut: 0 }
    : { ids: ids.slice(0, window), cut: ids.length - window };
}

/** How an SAE read its texts (SAELens prepend_bos, context_size; Sae.config has both). */
export interface SaeReading {
  prependBos: boolean;
  contextSize: number | null;
}

/** A corpus text's ids (`textIds`, no BOS) as an SAE reads them: BOS when due, its window. */
export function corpusIds(
  textIds: readonly number[],
  rule: TextRule,
  read: SaeReading,
): { ids: number[]; cut: number } {
  return corpusWindow(
    withBos(textIds, rule.bos, read.prependBos),
    readWindow(rule, read.contextSize),
  );
}

/**
 * The one-token context the logit lens adds a direction on: BOS, or EOS (GPT-2's
 * <|endoftext|> serves as both) for a model without BOS; null when the model has neither.
 */
export function lensContext(bos: number | undefined, eos: number | undefined): number[] | null {
  const id = bos ?? eos;
  return id === undefined ? null : [id];
}
