/** The current run input as the selection calls read it: a text, or a picture / face. */
import type { SelectionInput } from '../../../preload/contract';
import type { RunInput } from '../steer/inputs';

export function selectionInputOf(input: RunInput | null): SelectionInput | null {
  if (!input) return null;
  if (input.kind === 'text-lm') return input.prompt.trim() ? { text: input.prompt } : null;
  return { source: input.source };
}
