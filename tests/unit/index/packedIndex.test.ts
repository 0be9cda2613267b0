/**
 * A pack that ships its index Brotli-compressed (`features.sqlite.br`): the index service
 * decompresses it into the user's index folder on first use, with the same rows; a truncated
 * or non-index .br is a bad_pack error naming the file and leaves no index behind; a pack that
 * later ships a different index re-seeds the copy, keeping the old one and the person's edits.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerEntry } from '../../../main/app/workerEntry';
import { buildIndex, openIndex } from '../../../main/index';
import { isPackedIndex, packIndex, unpackIndex } from '../../../main/index/packedIndex';
import { PackService } from '../../../main/packs/packService';
import { IndexService } from '../../../main/services/indexService';
import { OrreryError } from '../../../preload/contract';
import { dumpBuild, fixture, repoRoot, tempDir } from './helpers';

const PACK_ID = 'orrery-emoji-tiny';
const SAES = ['latent-32', 'spatial-32'];

const tmp = tempDir();
let built = '';
let packed = '';
let expected: unknown[] = [];
let n = 0;

/** A copy of the emoji fixture whose manifest names `index` (holding `bytes`), and a service. */
function setup(
  index: string,
  bytes: Buffer,
): { service: IndexService; packs: PackService; indexDir: string } {
  const root = join(tmp.dir, `case-${n++}`);
  const packDir = join(root, 'models', 'emoji-tiny');
  cpSync(fixture('emoji-tiny'), packDir, { recursive: true });
  const manifestFile = join(packDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(manifestFile, JSON.stringify({ ...manifest, index }));
  writeFileSync(join(packDir, index), bytes);
  const packs = new PackService({ bundled: join(root, 'models'), library: join(root, 'library') });
  const indexDir = join(root, 'index');
  const service = new IndexService(packs, indexDir, {
    index: workerEntry(repoRoot, 'index'),
    reader: workerEntry(repoRoot, 'reader'),
  });
  return { service, packs, indexDir };
}

beforeAll(async () => {
  built = join(tmp.dir, 'built.sqlite');
  const db = openIndex(built);
  await buildIndex(db, fixture('emoji-tiny'), { compact: true });
  expected = SAES.map((s) => dumpBuild(db, s));
  db.close();
  packed = join(tmp.dir, 'features.sqlite.br');
  await packIndex(built, packed);
}, 60_000);

afterAll(() => tmp.cleanup());

/** The index folder's files, less the record of a passed whole check (main/db/recover.ts). */
const listed = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => !n.endsWith('.checked'))
    .sort();

describe('Brotli-compressed pack index', () => {
  it('packs to a smaller file that unpacks to the same bytes', async () => {
    expect(isPackedIndex(packed)).toBe(true);
    expect(isPackedIndex(built)).toBe(false);
    expect(readdirSync(tmp.dir)).not.toContain('features.sqlite.br.tmp');
    const raw = readFileSync(built);
    expect(readFileSync(packed).length).toBeLessThan(raw.length / 2);
    const back = join(tmp.dir, 'back.sqlite');
    const digest = createHash('sha256');
    await unpackIndex(packed, back, digest);
    expect(readFileSync(back).equals(raw)).toBe(true);
    // the hash of what was read (the packed file), fed as it streamed
    const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
    expect(digest.digest('hex')).toBe(sha(readFileSync(packed)));
    // a plain index is copied, and hashed the same way
    const plain = createHash('sha256');
    await unpackIndex(built, join(tmp.dir, 'copied.sqlite'), plain);
    expect(plain.digest('hex')).toBe(sha(raw));
  });

  it('is decompressed into the index folder on first use, with the same rows', async () => {
    const { service, indexDir } = setup('features.sqlite.br', readFileSync(packed));
    // Two first calls at once share one decompression.
    const statuses = await Promise.all(
      SAES.map((saeId) => service.status({ packId: PACK_ID, saeId })),
    );
    for (const st of statuses)
      expect(st).toMatchObject({
        built: true,
        features: 32,
        file: join(indexDir, `${PACK_ID}.sqlite`),
      });
    const card = await service.feature({ packId: PACK_ID, saeId: 'latent-32', feature: 0 });
    expect(card.feature).toBe(0);
    await service.close();
    expect(listed(indexDir)).toEqual([`${PACK_ID}.seed.json`, `${PACK_ID}.sqlite`]);
    const copy = openIndex(join(indexDir, `${PACK_ID}.sqlite`), { readonly: true });
    expect(SAES.map((s) => dumpBuild(copy, s))).toEqual(expected);
    copy.close();
  });

  it('reports the pack as having an index under the .br name', async () => {
    const { packs } = setup('features.sqlite.br', readFileSync(packed));
    const list = await packs.list();
    expect(list.packs.find((p) => p.id === PACK_ID)?.hasIndex).toBe(true);
    expect(list.problems).toEqual([]);
  });

  it('clears what an interrupted unpack left an hour ago or more, not a recent one', async () => {
    const { service, indexDir } = setup('features.sqlite.br', readFileSync(packed));
    mkdirSync(indexDir, { recursive: true });
    const stale = join(indexDir, `${PACK_ID}.sqlite.0a0b0c.partial`);
    const recent = join(indexDir, `${PACK_ID}.sqlite.0d0e0f.partial`);
    writeFileSync(stale, 'half');
    writeFileSync(recent, 'half');
    const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(stale, hoursAgo, hoursAgo);
    await service.status({ packId: PACK_ID, saeId: 'latent-32' });
    await service.close();
    expect(listed(indexDir)).toEqual(
      [`${PACK_ID}.seed.json`, `${PACK_ID}.sqlite`, `${PACK_ID}.sqlite.0d0e0f.partial`].sort(),
    );
  });

  it('re-seeds when the pack ships a different index, keeping the old copy and the edits', async () => {
    const { service, indexDir } = setup('features.sqlite.br', readFileSync(packed));
    const root = join(indexDir, '..');
    const packDir = join(root, 'models', 'emoji-tiny');
    await service.rename({
      packId: PACK_ID,
      saeId: 'latent-32',
      feature: 3,
      label: 'my name for it',
      notes: 'seen on flags',
    });
    await service.close();
    // The app is updated: the same pack version ships a rebuilt index (another label).
    const rebuilt = join(tmp.dir, `rebuilt-${n}.sqlite`);
    cpSync(built, rebuilt);
    const edit = openIndex(rebuilt);
    edit
      .prepare("update features set auto_label = 'rebuilt', label = 'rebuilt' where idx = 5")
      .run();
    edit.close();
    await packIndex(rebuilt, join(packDir, 'features.sqlite.br'));
    const restart = (): IndexService =>
      new IndexService(
        new PackService({ bundled: join(root, 'models'), library: join(root, 'library') }),
        indexDir,
        { index: workerEntry(repoRoot, 'index'), reader: workerEntry(repoRoot, 'reader') },
      );
    const again = restart();
    const card = await again.feature({ packId: PACK_ID, saeId: 'latent-32', feature: 3 });
    expect(card).toMatchObject({
      label: 'my name for it',
      labelSource: 'user',
      notes: 'seen on flags',
    });
    const five = await again.feature({ packId: PACK_ID, saeId: 'latent-32', feature: 5 });
    expect(five.label).toBe('rebuilt');
    await again.close();
    const files = readdirSync(indexDir).filter((f) => f.endsWith('.sqlite'));
    expect(files).toHaveLength(2); // the new copy and the old one, kept
    // A new pack version (new SAEs, maybe): the old copy is kept, the edits are not carried.
    const manifestFile = join(packDir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, version: '9.0.0' }));
    const third = restart();
    const fresh = await third.feature({ packId: PACK_ID, saeId: 'latent-32', feature: 3 });
    expect(fresh.labelSource).not.toBe('user');
    await third.close();
    expect(readdirSync(indexDir).filter((f) => f.endsWith('.sqlite'))).toHaveLength(3);
    // Nothing changed since: the copy is kept as it is.
    const fourth = restart();
    await fourth.status({ packId: PACK_ID, saeId: 'latent-32' });
    await fourth.close();
    expect(readdirSync(indexDir).filter((f) => f.endsWith('.sqlite'))).toHaveLength(3);
  });

  it('cuts thumbnails from the pack sheet for an index shipped without them', async () => {
    const bare = join(tmp.dir, 'bare.sqlite');
    const db = openIndex(bare);
    await buildIndex(db, fixture('emoji-tiny'), { compact: true, thumbnails: false });
    expect(db.prepare('select count(*) as n from examples where thumb is not null').get()).toEqual({
      n: 0,
    });
    db.close();
    const barePacked = join(tmp.dir, 'bare.sqlite.br');
    await packIndex(bare, barePacked);
    const withThumbs = setup('features.sqlite.br', readFileSync(packed));
    const without = setup('features.sqlite.br', readFileSync(barePacked));
    for (const feature of [0, 1, 2]) {
      const ref = { packId: PACK_ID, saeId: 'spatial-32', feature };
      const a = await withThumbs.service.feature(ref);
      const b = await without.service.feature(ref);
      expect(b.topExamples.map((e) => e.thumbnailPng)).toEqual(
        a.topExamples.map((e) => e.thumbnailPng),
      );
      expect(b.topExamples.every((e) => (e.thumbnailPng ?? '').length > 100)).toBe(true);
    }
    await withThumbs.service.close();
    await without.service.close();
  });

  it('still copies a plain .sqlite index', async () => {
    const { service, indexDir } = setup('features.sqlite', readFileSync(built));
    expect(await service.status({ packId: PACK_ID, saeId: 'spatial-32' })).toMatchObject({
      built: true,
    });
    await service.close();
    expect(listed(indexDir)).toEqual([`${PACK_ID}.seed.json`, `${PACK_ID}.sqlite`]);
  });

  it('refuses a truncated .br with a bad_pack error naming it, leaving no index', async () => {
    const whole = readFileSync(packed);
    const { service, indexDir } = setup(
      'features.sqlite.br',
      whole.subarray(0, Math.floor(whole.length / 2)),
    );
    const err = await service.status({ packId: PACK_ID, saeId: 'latent-32' }).catch((e) => e);
    expect(err).toBeInstanceOf(OrreryError);
    expect(err).toMatchObject({ code: 'bad_pack' });
    expect((err as Error).message).toMatch(
      /emoji-tiny[/\\]features\.sqlite\.br: .*corrupt or truncated/,
    );
    expect(readdirSync(indexDir)).toEqual([]);
    await service.close();
  });

  it('refuses a .br that is not an SQLite database', async () => {
    const { service, indexDir } = setup(
      'features.sqlite.br',
      brotliCompressSync(Buffer.from('not a database, just text\n'.repeat(10))),
    );
    await expect(service.status({ packId: PACK_ID, saeId: 'latent-32' })).rejects.toMatchObject({
      code: 'bad_pack',
      message: expect.stringMatching(/features\.sqlite\.br: not a feature index/),
    });
    expect(readdirSync(indexDir)).toEqual([]);
  });
});
