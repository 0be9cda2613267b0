/**
 * What a streaming text run shows (useSteerRun): the tokens each row has streamed so far,
 * before only as far as after has come. A before row kept from an earlier tick arrives whole
 * at once (main/runtime/text/generation.ts KeptBefore), and the tail after has not reached
 * yet is not a change: shown, it would read as words removed until after caught up.
 */
export function streamedText(pieces: Readonly<Record<'before' | 'after', readonly string[]>>): {
  before: string;
  after: string;
} {
  return {
    before: pieces.before.slice(0, pieces.after.length).join(''),
    after: pieces.after.join(''),
  };
}
