/**
 * The features of one SAE active at each prompt token, and each feature's strongest value
 * (text.active), from the SAE's codes of the prompt's rows; shared by the text engines. The
 * BOS position is a row like any other but does not count towards `strongest` (its
 * activations are the same for every prompt), unless it is the whole prompt.
 */
import type { z } from 'zod';
import type { ActiveOutput } from '../../../preload/contract';
import { firstReadRow } from './textRule';

type ActiveResult = z.output<typeof ActiveOutput>;

/** f: codes [prompt.length, dSae]; `label` names a token for a person. */
export function activeRows(
  f: Float32Array,
  dSae: number,
  prompt: readonly number[],
  bos: number | undefined,
  label: (id: number) => string,
  topK: number,
): ActiveResult {
  const n = prompt.length;
  const rows: ActiveResult['rows'] = [];
  const strongest = new Float32Array(dSae);
  const firstCounted = firstReadRow(prompt, bos);
  for (let r = 0; r < n; r++) {
    const row = f.subarray(r * dSae, (r + 1) * dSae);
    const feats: { feature: number; value: number }[] = [];
    for (let j = 0; j < dSae; j++) {
      const v = row[j] ?? 0;
      if (v > 0) {
        feats.push({ feature: j, value: v });
        if (r >= firstCounted && v > (strongest[j] ?? 0)) strongest[j] = v;
      }
    }
    feats.sort(byValue);
    rows.push({ label: label(prompt[r] ?? 0), features: feats.slice(0, topK) });
  }
  const top: ActiveResult['strongest'] = [];
  for (let j = 0; j < dSae; j++) {
    const v = strongest[j] ?? 0;
    if (v > 0) top.push({ feature: j, value: v });
  }
  top.sort(byValue);
  return { rows, strongest: top };
}

function byValue(a: { feature: number; value: number }, b: { feature: number; value: number }) {
  return b.value - a.value || a.feature - b.feature;
}
