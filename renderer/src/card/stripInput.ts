/**
 * The input a card's effect strip shows: the pack's current input (the App sets it), kept
 * outside React so the card (kept as the same element across runs) reads it without the App
 * re-rendering it. Null until the App has an input: the strip then uses example 0.
 */
import type { RunInput } from '../steer/inputs';

let current: RunInput | null = null;
const listeners = new Set<() => void>();

export function setStripInput(input: RunInput | null): void {
  if (input === current) return;
  current = input;
  for (const l of listeners) l();
}

export const stripInput = (): RunInput | null => current;

export function subscribeStripInput(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
