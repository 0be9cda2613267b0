// Neuronpedia explanation exports in the three shapes they come in (JSON lines, gzipped JSON
// lines, one JSON array), into a real index file: labels that say where they came from, the
// records that were skipped and why, the model / SAE filter, and cancel.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../main/db/connection';
import { BuildCancelled, getFeature, importNeuronpedia, refreshLabels } from '../../../main/index';
import { OrreryError } from '../../../preload/contract';
import { zeroBomb } from '../../support/zipBomb';
import { indexWithSae, tempDir } from './helpers';

const SAE = '6-res-jb';

const records = [
  { modelId: 'gpt2-small', layer: '6-res-jb', index: '1', description: 'names of rivers' },
  { modelId: 'gpt2-small', layer: '6-res-jb', index: 2, description: '  closing brackets ' },
  { modelId: 'gpt2-small', layer: '7-res-jb', index: 3, description: 'another layer' },
  { modelId: 'gpt2-small', layer: '6-res-jb', index: 99, description: 'out of range' },
  { modelId: 'gpt2-small', layer: '6-res-jb', index: 4, description: '' },
];

describe('Neuronpedia label import', () => {
  const tmp = tempDir();
  let db: Db;
  const label = (idx: number): [string | null, string | null] => {
    const c = getFeature(db, SAE, idx);
    return [c?.label ?? null, c?.labelSource ?? null];
  };

  beforeAll(() => {
    db = indexWithSae(join(tmp.dir, 'np.sqlite'), {
      saeId: SAE,
      hook: 'blocks.6.hook_resid_pre',
      kind: 'text-lm',
      dSae: 8,
      dIn: 4,
      architecture: 'relu',
    });
    const add = db.prepare(
      `insert into features (sae_id, idx, auto_label, auto_source) values (?, ?, ?, 'top-tokens')`,
    );
    for (let i = 0; i < 8; i++) add.run(SAE, i, `“tok${i}”`);
    refreshLabels(db, SAE);
  });
  afterAll(() => {
    db.close();
    tmp.cleanup();
  });

  it('reads JSON lines with a model and SAE filter, and says what it skipped', async () => {
    const file = join(tmp.dir, 'a.jsonl');
    writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n{oops\n[1]\n');
    const r = await importNeuronpedia(db, SAE, file, { modelId: 'gpt2-small', layer: SAE });
    expect(r.imported).toBe(2);
    expect(r.skipped).toBe(4);
    expect(r.problems).toEqual([
      'line 4: index 99 is not a feature of 6-res-jb (0…7)',
      'line 5: no description',
      'line 6: not JSON',
      'line 7: not a JSON object',
    ]);
    expect(label(1)).toEqual(['names of rivers', 'neuronpedia']);
    expect(label(2)).toEqual(['closing brackets', 'neuronpedia']);
    expect(label(3)).toEqual(['“tok3”', 'top-tokens']);
  });

  it('reads gzipped JSON lines and a JSON array the same way', async () => {
    const gz = join(tmp.dir, 'b.jsonl.gz');
    writeFileSync(
      gz,
      gzipSync(JSON.stringify({ modelId: 'm', layer: SAE, index: 5, description: 'commas' })),
    );
    expect((await importNeuronpedia(db, SAE, gz)).imported).toBe(1);
    expect(label(5)).toEqual(['commas', 'neuronpedia']);

    const arr = join(tmp.dir, 'c.json');
    writeFileSync(
      arr,
      JSON.stringify([
        { modelId: 'm', layer: SAE, index: 6, description: 'dates' },
        'not a record',
        { modelId: 'm', layer: SAE, index: 3, description: 'another layer, relabelled' },
      ]),
    );
    const r = await importNeuronpedia(db, SAE, arr, { layer: SAE });
    expect(r).toMatchObject({ imported: 2, skipped: 1, problems: ['record 2: not a JSON object'] });
    expect(label(6)).toEqual(['dates', 'neuronpedia']);
    expect(label(3)).toEqual(['another layer, relabelled', 'neuronpedia']);

    const broken = join(tmp.dir, 'd.json');
    writeFileSync(broken, '[{"index": 1,');
    await expect(importNeuronpedia(db, SAE, broken)).rejects.toThrow(/not JSON/);
  });

  it('writes nothing when cancelled', async () => {
    const file = join(tmp.dir, 'e.jsonl');
    writeFileSync(file, JSON.stringify({ index: 7, description: 'never' }));
    const ac = new AbortController();
    ac.abort();
    await expect(importNeuronpedia(db, SAE, file, {}, ac.signal)).rejects.toBeInstanceOf(
      BuildCancelled,
    );
    expect(label(7)).toEqual(['“tok7”', 'top-tokens']);
  });

  it('ends a gzip that inflates to 1 GiB in a named too_large error, holding at most one line', async () => {
    // 1 GiB of zeros (no newline) in about 1 MB: a gzip wrapper around the zip bomb's deflate data.
    const bomb = zeroBomb('x', 1024);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(bomb.crc >>> 0, 0);
    trailer.writeUInt32LE(bomb.size >>> 0, 4);
    const file = join(tmp.dir, 'bomb.jsonl.gz');
    writeFileSync(
      file,
      Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), bomb.data, trailer]),
    );
    const rss0 = process.memoryUsage().rss;
    const e = await importNeuronpedia(db, SAE, file).then(
      () => null,
      (err: unknown) => err as OrreryError,
    );
    expect(e).toBeInstanceOf(OrreryError);
    expect(e?.code).toBe('too_large');
    expect(e?.message).toMatch(
      /line 1 is longer than 1,048,576 bytes; the limit \(labelLineBytes\)/,
    );
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 1024 * 1024);
  });

  it('refuses one overlong line and a file over the decompressed-size cap, by name', async () => {
    const long = join(tmp.dir, 'long.jsonl');
    const record = JSON.stringify({
      modelId: 'm',
      layer: SAE,
      index: 1,
      description: 'x'.repeat(2 ** 21),
    });
    writeFileSync(long, `${JSON.stringify(records[0])}\n${record}\n`);
    const e = await importNeuronpedia(db, SAE, long).then(
      () => null,
      (err: unknown) => err as OrreryError,
    );
    expect(e?.code).toBe('too_large');
    expect(e?.message).toContain('line 2 is longer than');

    const many = join(tmp.dir, 'many.jsonl.gz');
    writeFileSync(many, gzipSync(`${JSON.stringify(records[0])}\n`.repeat(20_000)));
    const big = await importNeuronpedia(db, SAE, many, {}, undefined, {
      bytes: 100_000,
      line: 4096,
    }).then(
      () => null,
      (err: unknown) => err as OrreryError,
    );
    expect(big?.code).toBe('too_large');
    expect(big?.message).toContain('labelBytes');
  });

  it('refuses a gzip of valid label lines inflating 1 GiB early, by its ratio', async () => {
    // 1 MiB of real label lines, deflated once and repeated 1024 times behind a full flush:
    // about 3 MB that inflates to 1 GiB of lines a parser would otherwise read to the end.
    const line = `${JSON.stringify({ modelId: 'm', layer: SAE, index: '1', description: 'x' })}\n`;
    const chunk = Buffer.from(line.repeat(Math.floor(2 ** 20 / line.length)));
    const block = deflateRawSync(chunk, { finishFlush: constants.Z_FULL_FLUSH });
    const end = deflateRawSync(Buffer.alloc(0));
    const file = join(tmp.dir, 'lines-bomb.jsonl.gz');
    const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    writeFileSync(
      file,
      Buffer.concat([header, ...new Array<Buffer>(1024).fill(block), end, Buffer.alloc(8)]),
    );
    const rss0 = process.memoryUsage().rss;
    const e = await importNeuronpedia(db, SAE, file).then(
      () => null,
      (err: unknown) => err as OrreryError,
    );
    expect(e?.code).toBe('too_large');
    expect(e?.message).toContain('labelRatio');
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 1024 * 1024);
  });

  it('a file with no labels in it (a CSV) is a named bad_input', async () => {
    const file = join(tmp.dir, 'labels.csv');
    writeFileSync(file, 'index,description\n1,commas\n2,semicolons\n');
    const e = await importNeuronpedia(db, SAE, file).then(
      () => null,
      (err: unknown) => err as OrreryError,
    );
    expect(e?.code).toBe('bad_input');
    expect(e?.message).toMatch(/no Neuronpedia labels found \(line 1: not JSON\)/);
  });

  it('a damaged gzip is a named bad_input, not an internal error', async () => {
    const file = join(tmp.dir, 'cut.jsonl.gz');
    const whole = gzipSync(`${JSON.stringify(records[0])}\n`.repeat(1000));
    writeFileSync(file, Buffer.concat([whole.subarray(0, 40), Buffer.alloc(64, 0xee)]));
    const e = await importNeuronpedia(db, SAE, file).then(
      () => null,
      (err: unknown) => err as OrreryError,
    );
    expect(e).toBeInstanceOf(OrreryError);
    expect(e?.code).toBe('bad_input');
    expect(e?.message).toContain('not a readable gzip');
  });
});
