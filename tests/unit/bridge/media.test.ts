/**
 * A bridge across media, through paired inputs the packs have: the emoji fixture's images read
 * by its latent SAE against their names read by the text fixture's model and SAE, one sample per
 * emoji (a name's tokens pooled by their max), correlation by example, in either order of the
 * sides. The codes are the readers' own: a text feature's match list is the same whichever side
 * it is on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBridge } from '../../../main/bridge/build';
import { bridgeState, openBridge } from '../../../main/bridge/meta';
import { featureMatches } from '../../../main/bridge/read';
import { loadPackCorpus } from '../../../main/index/corpus';
import { readPack } from '../../../main/packs/packReader';
import { fixturePacks } from '../../support/tmp';

const dir = mkdtempSync(path.join(tmpdir(), 'orrery-media-bridge-'));
const emoji = `${path.join(fixturePacks, 'emoji-tiny')}#latent-32`;
const text = path.join(fixturePacks, 'text-tiny');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a bridge across media (emoji names read as text ↔ emoji images)', () => {
  it('pairs each emoji with its name, by example, in either order', async () => {
    const read = await readPack(path.join(fixturePacks, 'emoji-tiny'));
    if (!read.ok) throw new Error(read.problem.message);
    const n = (await loadPackCorpus(read.pack, 'auto')).examples.length;
    const ab = openBridge(path.join(dir, 'ab.sqlite'));
    const ba = openBridge(path.join(dir, 'ba.sqlite'));
    try {
      const s1 = await buildBridge(ab, emoji, text);
      const s2 = await buildBridge(ba, text, emoji);
      for (const [db, s] of [
        [ab, s1],
        [ba, s2],
      ] as const) {
        expect(s.samples).toBe(n);
        expect(bridgeState(db)).toMatchObject({ method: 'correlation', unit: 'example' });
      }
      let compared = 0;
      for (let j = 0; j < 64; j++) {
        const x = featureMatches(ab, 'b', j);
        const y = featureMatches(ba, 'a', j);
        expect(y.status).toBe(x.status);
        expect(y.matches.map((m) => m.feature)).toEqual(x.matches.map((m) => m.feature));
        y.matches.forEach((m, i) => expect(m.score).toBeCloseTo(x.matches[i]?.score ?? NaN, 5));
        if (x.status !== 'silent') compared++;
      }
      expect(compared).toBeGreaterThan(0);
    } finally {
      ab.close();
      ba.close();
    }
  }, 120_000);
});
