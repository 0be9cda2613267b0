/**
 * Damaged bytes only ever give named errors: seeded mutations (truncations, flipped bytes,
 * overwritten runs) of a real ONNX file, a real pack zip, a safetensors file and a label
 * export are fed to their readers; each either reads or fails with its own error type,
 * never a RangeError or a TypeError from deep inside (which the API would call `internal`).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openIndex } from '../../../main/index';
import { importNeuronpedia } from '../../../main/index/neuronpedia';
import { OnnxInfoError, readOnnxInfo } from '../../../main/packs/onnxInfo';
import { extractPackZip } from '../../../main/packs/zip';
import { SafetensorsError, SafetensorsFile } from '../../../main/sae/safetensors';
import { OrreryError } from '../../../preload/contract';
import { cleanupTmp, fixturePacks, tmpDir } from '../../support/tmp';
import { deflated, writeZip } from '../../support/zipBomb';
import { mulberry32 } from '../../../main/index/build/rng';

afterAll(cleanupTmp);

/** A small deterministic generator (the index build's mulberry32). */
const rng = mulberry32;

function mutate(bytes: Buffer, r: () => number): Buffer {
  const out = Buffer.from(bytes);
  const kind = Math.floor(r() * 3);
  if (kind === 0) return out.subarray(0, Math.floor(r() * out.length));
  const at = Math.floor(r() * out.length);
  if (kind === 1) {
    for (let i = 0; i < 1 + Math.floor(r() * 8); i++)
      out[(at + i * 97) % out.length] = Math.floor(r() * 256);
    return out;
  }
  const len = Math.min(out.length - at, 1 + Math.floor(r() * 64));
  for (let i = 0; i < len; i++) out[at + i] = r() < 0.5 ? 0xff : Math.floor(r() * 256);
  return out;
}

const textTiny = path.join(fixturePacks, 'text-tiny');
const N = 120;

describe('mutated inputs give named errors only', () => {
  it(`ONNX: ${N} mutations of the text model`, async () => {
    const model = readFileSync(path.join(textTiny, 'below.onnx'));
    const r = rng(1);
    const file = path.join(tmpDir(), 'm.onnx');
    let refused = 0;
    for (let i = 0; i < N; i++) {
      writeFileSync(file, mutate(model, r));
      try {
        await readOnnxInfo(file);
      } catch (e) {
        expect(e, `mutation ${i}: ${(e as Error).message}`).toBeInstanceOf(OnnxInfoError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  it(`safetensors: ${N} mutations of an SAE's weights`, () => {
    const w = readFileSync(
      path.join(textTiny, 'sae/blocks.1.hook_resid_post/sae_weights.safetensors'),
    );
    const r = rng(2);
    for (let i = 0; i < N; i++) {
      try {
        const f = SafetensorsFile.parse(mutate(w, r), 'w.safetensors');
        for (const name of f.names) {
          try {
            f.tensor(name);
          } catch (e) {
            expect(e).toBeInstanceOf(SafetensorsError);
          }
        }
      } catch (e) {
        expect(e, `mutation ${i}: ${(e as Error).message}`).toBeInstanceOf(SafetensorsError);
      }
    }
  });

  it(`zip: ${N / 2} mutations of a zipped pack`, async () => {
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)],
      );
    const zip = writeZip(
      walk(textTiny).map((f) => deflated(`p/${path.relative(textTiny, f)}`, readFileSync(f))),
    );
    const r = rng(3);
    const dir = tmpDir();
    for (let i = 0; i < N / 2; i++) {
      const file = path.join(dir, `z${i}.zip`);
      writeFileSync(file, mutate(zip, r));
      try {
        await extractPackZip(file, tmpDir());
      } catch (e) {
        expect(e, `mutation ${i}: ${(e as Error).message}`).toBeInstanceOf(OrreryError);
      }
    }
  });

  it(`labels: ${N / 4} mutations of a gzipped export`, async () => {
    const lines = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ modelId: 'm', layer: 'l', index: i % 8, description: `label ${i}` }),
    ).join('\n');
    const gz = gzipSync(lines);
    const dir = tmpDir();
    const db = openIndex(path.join(dir, 'i.sqlite'));
    db.prepare(
      `insert into saes (sae_id, hook, kind, d_sae, d_in, architecture) values ('s', 'h', 'text-lm', 8, 4, 'relu')`,
    ).run();
    const r = rng(4);
    try {
      for (let i = 0; i < N / 4; i++) {
        const file = path.join(dir, `l${i}.jsonl.gz`);
        writeFileSync(file, mutate(gz, r));
        try {
          await importNeuronpedia(db, 's', file);
        } catch (e) {
          expect(e, `mutation ${i}: ${(e as Error).message}`).toBeInstanceOf(OrreryError);
        }
      }
    } finally {
      db.close();
    }
  });
});
