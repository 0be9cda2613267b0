/**
 * The first view goes first (cold start): calls the galaxy does not need — the runtime's model
 * load, the health check's ONNX run — wait until the first view has settled, so their loading
 * does not compete with the map's read and the galaxy's first frame for the machine's cores.
 * It settles when the galaxy has drawn its first frame or the page shows something else in its
 * place (no pack, no index, an error), and after SETTLE_MS whatever happens.
 */
import { useEffect } from 'react';

/** The most the deferred calls wait, from the page's start. */
const SETTLE_MS = 8_000;

let settle: () => void = () => undefined;
const settled = new Promise<void>((resolve) => {
  settle = resolve;
});
setTimeout(() => settle(), SETTLE_MS);

/** Resolves once the first view has settled (at once after that). */
export function firstViewSettled(): Promise<void> {
  return settled;
}

/** The first view is shown (a frame drawn, or what stands in its place). */
export function settleFirstView(): void {
  settle();
}

/** Settles the first view when `shown` is true. */
export function useSettleFirstView(shown: boolean): void {
  useEffect(() => {
    if (shown) settle();
  }, [shown]);
}
