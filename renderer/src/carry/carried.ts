/**
 * The carry mapping last applied to the dials (CarryPanel), kept outside React: a run sends it
 * as `carried` (contract carry.ts) so the session step keeps which source dial became which
 * dial, with the bridge's scores. A row goes with a run only while its dial is still on; it
 * carries the strength the dial runs at now (the person may turn it after applying).
 */
import type { Carried, DialInput } from '../../../preload/contract';

let applied: Carried | null = null;

export function setCarried(c: Carried | null): void {
  applied = c;
}

/** The mapping for a run of `packId` with `dials`, or null when no carried dial is among them. */
export function carriedFor(packId: string, dials: readonly DialInput[]): Carried | null {
  if (!applied || applied.to.packId !== packId) return null;
  const to = applied.to.saeId;
  const rows = applied.rows.flatMap((r) => {
    const d = dials.find((x) => x.saeId === to && x.feature === r.feature && !x.members);
    return d ? [{ ...r, value: d.value }] : [];
  });
  return rows.length > 0 ? { ...applied, rows } : null;
}
