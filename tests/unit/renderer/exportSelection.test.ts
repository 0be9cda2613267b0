/** A selection as JSON and CSV: ranked features first, then the rest; CSV quoting per RFC 4180. */
import { describe, expect, it } from 'vitest';
import {
  exportRows,
  fileStem,
  selectionCsv,
  selectionJson,
} from '../../../renderer/src/selection/exportSelection';
import type { OpenSelection } from '../../../renderer/src/selection/selectionStore';

const sel: OpenSelection = {
  packId: 'p',
  saeId: 's',
  features: [4, 7, 9],
  origin: 'lasso',
  name: 'Red, "warm" things',
  weights: new Map([[7, 2]]),
  typical: null,
  note: '',
};

describe('selection export', () => {
  it('lists ranked features first with their activations, then the unranked ones', () => {
    const rows = exportRows(sel, [{ feature: 7, max: 1.5, mean: 0.25 }], new Map([[7, 'red']]));
    expect(rows).toEqual([
      { feature: 7, title: 'red', weight: 2, max: 1.5, mean: 0.25 },
      { feature: 4, title: '', weight: 1, max: null, mean: null },
      { feature: 9, title: '', weight: 1, max: null, mean: null },
    ]);
    const json = JSON.parse(selectionJson(sel, rows)) as { orrery: string; features: unknown[] };
    expect(json.orrery).toBe('selection');
    expect(json.features).toHaveLength(3);
  });

  it('quotes CSV fields that need it and names the file safely', () => {
    const rows = exportRows(sel, [], new Map([[4, 'a, "b"']]));
    expect(selectionCsv(rows)).toBe(
      'feature,title,weight,max_activation,mean_activation\r\n' +
        '4,"a, ""b""",1,,\r\n7,,2,,\r\n9,,1,,\r\n',
    );
    expect(fileStem(sel)).toBe('Red-warm-things');
  });
});
