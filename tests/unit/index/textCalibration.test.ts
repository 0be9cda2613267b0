/**
 * The text calibration stage on the real text fixture (its ONNX graphs, its SAE): each live
 * feature gets the add strength where greedy generation from the default prompt changes half
 * its tokens, stored with its provenance; rebuilding keeps it (the stage runs once per version)
 * and keeps a rename.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIndex, getFeature, openIndex, renameFeature } from '../../../main/index';
import {
  CHANGED_LEVEL,
  changedShare,
  TEXT_CALIBRATION_VERSION,
  textLimit,
} from '../../../main/index/build/textCalibration';
import { fixture, tempDir } from './helpers';

describe('text calibration (changed-token threshold)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('changed share and the limit between the last two strengths', () => {
    expect(changedShare([1, 2, 3, 4], [1, 2, 3, 4], 4)).toBe(0);
    expect(changedShare([1, 2, 3, 4], [1, 9, 3], 4)).toBe(0.5);
    expect(textLimit([{ multiple: 2, changed: 0 }])).toEqual({ multiple: 2, reached: false });
    const l = textLimit([
      { multiple: 2, changed: 0 },
      { multiple: 8, changed: 1 },
    ]);
    expect(l.reached).toBe(true);
    expect(l.multiple).toBeGreaterThan(2);
    expect(l.multiple).toBeLessThan(8);
  });

  it('every live feature of the text fixture gets a calibrated range', async () => {
    const db = openIndex(join(tmp.dir, 'text.sqlite'));
    await buildIndex(db, fixture('text-tiny'), { chunkExamples: 16 });
    const rows = db
      .prepare("select idx, calibration from features where sae_id = 'res1-64' and n_active > 0")
      .all() as { idx: number; calibration: string | null }[];
    expect(rows.length).toBeGreaterThan(0);
    let reached = 0;
    for (const r of rows) {
      const c = JSON.parse(r.calibration ?? 'null') as {
        measure: string;
        typical: number;
        limit: number;
        level: number;
        reached: boolean;
        curve: { multiple: number; changed: number }[];
      };
      expect(c.measure).toBe('changed-tokens');
      expect(c.level).toBe(CHANGED_LEVEL);
      expect(c.limit).toBeGreaterThan(0);
      // the walk stops at the first strength that reaches the level
      const last = c.curve[c.curve.length - 1];
      expect(c.reached).toBe((last?.changed ?? 0) >= CHANGED_LEVEL);
      if (c.reached) {
        reached++;
        expect(c.limit).toBeLessThanOrEqual(c.typical * (last?.multiple ?? 0));
        for (const p of c.curve.slice(0, -1)) expect(p.changed).toBeLessThan(CHANGED_LEVEL);
      }
    }
    expect(reached).toBeGreaterThan(0);
    const stage = db
      .prepare(
        "select version, detail from index_stages where sae_id = 'res1-64' and stage = 'calibration'",
      )
      .get() as { version: number; detail: string };
    expect(stage.version).toBe(TEXT_CALIBRATION_VERSION);
    expect(JSON.parse(stage.detail)).toMatchObject({ features: rows.length });
    // the card carries it
    const f = rows[0]?.idx ?? 0;
    const card = getFeature(db, 'res1-64', f);
    expect(card?.calibration).toMatchObject({ measure: 'changed-tokens' });
    // a rebuild keeps a rename and does not measure again
    renameFeature(db, 'res1-64', f, 'mine');
    const before = stage.detail;
    await buildIndex(db, fixture('text-tiny'), { chunkExamples: 16 });
    expect(getFeature(db, 'res1-64', f)).toMatchObject({ label: 'mine', labelSource: 'user' });
    const again = db
      .prepare("select detail from index_stages where sae_id = 'res1-64' and stage = 'calibration'")
      .get() as { detail: string };
    expect(again.detail).toBe(before);
    db.close();
  }, 240_000);
});
