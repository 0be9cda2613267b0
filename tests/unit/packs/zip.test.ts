import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultZipLimits, extractPackZip } from '../../../main/packs/zip';
import { OrreryError } from '../../../preload/contract';
import { cleanupTmp, fixturePacks, tmpDir } from '../../support/tmp';
import { deflated, stored, writeZip, zeroBomb, type RawEntry } from '../../support/zipBomb';

afterEach(cleanupTmp);

const textTiny = path.join(fixturePacks, 'text-tiny');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

function packEntries(prefix = 'text-tiny/'): RawEntry[] {
  return walk(textTiny).map((f) =>
    deflated(`${prefix}${path.relative(textTiny, f)}`, readFileSync(f)),
  );
}

function zipFile(entries: RawEntry[]): string {
  const file = path.join(tmpDir(), 'pack.zip');
  writeFileSync(file, writeZip(entries));
  return file;
}

async function refusal(p: Promise<unknown>): Promise<OrreryError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OrreryError);
  return e as OrreryError;
}

const manifest = readFileSync(path.join(textTiny, 'manifest.json'));

/** The whole fixture pack, its below.onnx replaced by `bomb` (the manifest first). */
function withBomb(bomb: RawEntry): RawEntry[] {
  const rest = packEntries().filter((e) => !e.name.endsWith('/below.onnx'));
  const m = rest.findIndex((e) => e.name.endsWith('/manifest.json'));
  return [...rest.splice(m, 1), ...rest, bomb];
}

describe('zip import', () => {
  it('unpacks a pack zipped with or without a top folder', async () => {
    const dest = tmpDir();
    const root = await extractPackZip(zipFile(packEntries()), dest);
    expect(root).toBe(path.join(dest, 'text-tiny'));
    expect(
      readFileSync(path.join(root, 'below.onnx')).equals(
        readFileSync(path.join(textTiny, 'below.onnx')),
      ),
    ).toBe(true);
    const dest2 = tmpDir();
    expect(await extractPackZip(zipFile(packEntries('')), dest2)).toBe(dest2);
  });

  it('refuses a 1 MB zip that declares 1 GiB (ratio) from its directory, without inflating', async () => {
    const bomb = zeroBomb('text-tiny/below.onnx', 1024);
    const file = zipFile(withBomb(bomb));
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const dest = tmpDir();
    const e = await refusal(extractPackZip(file, dest));
    const ms = performance.now() - t0;
    expect(e.code).toBe('too_large');
    expect(e.message).toContain('zipRatio');
    expect(e.message).toContain('below.onnx');
    expect(readdirSync(dest)).toEqual([]);
    console.log(
      `zip bomb (${(bomb.data.length / 1e6).toFixed(2)} MB → 1 GiB, honest sizes): refused in ${ms.toFixed(0)} ms, RSS +${((process.memoryUsage().rss - rss0) / 1e6).toFixed(1)} MB`,
    );
  });

  it('stops an entry that inflates past the size its zip declares (a lying bomb)', async () => {
    const bomb = { ...zeroBomb('text-tiny/below.onnx', 1024), size: 4096 };
    const file = zipFile(withBomb(bomb));
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const e = await refusal(extractPackZip(file, tmpDir()));
    const ms = performance.now() - t0;
    expect(e.code).toBe('too_large');
    expect(e.message).toContain('inflates past the 4,096 bytes its zip declares');
    console.log(
      `zip bomb (lying sizes): refused in ${ms.toFixed(0)} ms, RSS +${((process.memoryUsage().rss - rss0) / 1e6).toFixed(1)} MB`,
    );
  });

  it('holds the total size and the entry count to the limits (configurable)', async () => {
    const file = zipFile(packEntries());
    const big = await refusal(
      extractPackZip(file, tmpDir(), { ...defaultZipLimits, totalBytes: 10_000 }),
    );
    expect(big.code).toBe('too_large');
    expect(big.message).toContain('zipBytes');
    const many = await refusal(extractPackZip(file, tmpDir(), { ...defaultZipLimits, entries: 3 }));
    expect(many.code).toBe('too_large');
    expect(many.message).toContain('zipEntries');
    expect(defaultZipLimits.totalBytes).toBe(2 * 1024 ** 3);
  });

  it('reads and validates the manifest before writing anything', async () => {
    const lying = { ...zeroBomb('text-tiny/below.onnx', 64), size: 10 };
    const dest = tmpDir();
    const e = await refusal(
      extractPackZip(zipFile([lying, stored('text-tiny/manifest.json', '{"format": 2}')]), dest),
    );
    expect(e.code).toBe('bad_pack');
    expect(e.message).toContain('manifest.json');
    expect(readdirSync(dest)).toEqual([]);
    const partial = packEntries().filter((e) => !e.name.endsWith('tokenizer.json'));
    const dest2 = tmpDir();
    const missing = await refusal(extractPackZip(zipFile(partial), dest2));
    expect(missing.message).toContain('names tokenizer.json, which the zip does not hold');
    expect(readdirSync(dest2)).toEqual([]);
    const none = await refusal(extractPackZip(zipFile([stored('a/readme.txt', 'hi')]), tmpDir()));
    expect(none.message).toContain('no manifest.json');
  });

  it('names damaged zips: bad CRC, truncated, unknown method, escaping names, duplicates', async () => {
    const good = packEntries();
    const crc = good.map((e) => (e.name.endsWith('tokenizer.json') ? { ...e, crc: e.crc ^ 1 } : e));
    expect((await refusal(extractPackZip(zipFile(crc), tmpDir()))).message).toContain('CRC');

    const whole = writeZip(good);
    const cut = path.join(tmpDir(), 'cut.zip');
    writeFileSync(cut, whole.subarray(0, whole.length - 40));
    expect((await refusal(extractPackZip(cut, tmpDir()))).code).toBe('bad_pack');

    const bz = good.map((e) => (e.name.endsWith('tokenizer.json') ? { ...e, method: 12 as 8 } : e));
    expect((await refusal(extractPackZip(zipFile(bz), tmpDir()))).message).toContain('method 12');

    const evil = [stored('manifest.json', manifest), stored('../escaped.txt', 'x')];
    expect((await refusal(extractPackZip(zipFile(evil), tmpDir()))).message).toContain(
      'outside the pack',
    );

    const twice = [...good, good[0] as RawEntry];
    expect((await refusal(extractPackZip(zipFile(twice), tmpDir()))).message).toContain('twice');

    const notZip = path.join(tmpDir(), 'not.zip');
    writeFileSync(notZip, 'plain text');
    expect((await refusal(extractPackZip(notZip, tmpDir()))).message).toContain(
      'not a readable zip',
    );
  });
});
