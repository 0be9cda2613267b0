/**
 * Each feature's calibrated dial range, as its card said (the index measured it: 1× = its
 * typical activation, limit = the add strength where the output's SSIM to before reaches the
 * calibration level). Cards record it here; dials read it. Kept per SAE and feature.
 */
export interface DialRange {
  typical: number;
  limit: number;
  level: number;
}

const ranges = new Map<string, DialRange>();

export function rememberRange(saeId: string, feature: number, r: DialRange | null): void {
  if (r && r.limit > 0 && r.typical > 0) ranges.set(`${saeId}#${feature}`, r);
}

export function rangeOf(saeId: string, feature: number): DialRange | null {
  return ranges.get(`${saeId}#${feature}`) ?? null;
}
