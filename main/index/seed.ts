/**
 * Keeps a person's copy of a pack's shipped index in step with the pack. The copy lives in
 * the user's data folder (renames and notes go there); a sidecar `<pack>.seed.json` records
 * which shipped file it came from. When the pack later ships a different index (an update),
 * the old copy is kept as `<pack>.<time>.sqlite`, the new one is unpacked, and the person's
 * renames, notes and imported labels move over when the pack's version is the same (the
 * same SAEs, so a feature number still means the same feature). Nothing is deleted.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { openDatabase, type Db } from '../db/connection';
import { trustAsChecked } from '../db/recover';
import { migrations } from './migrations';
import { unpackIndex } from './packedIndex';
import { refreshLabels } from './store';

export interface SeedSource {
  /** the shipped index file (in the pack) */
  shipped: string;
  /** the pack's version */
  version: string;
}

interface SeedRecord {
  version: string;
  index: string;
  bytes: number;
  /** the shipped file's modification time when it was last compared (skips re-hashing) */
  mtimeMs?: number;
  /** the shipped file's content hash: a rebuilt index can compress to the same size */
  sha256?: string;
}

export type SeedOutcome =
  { outcome: 'kept' | 'seeded' } | { outcome: 'reseeded'; backup: string; carried: number };

const sidecarOf = (file: string): string => file.replace(/\.sqlite$/, '') + '.seed.json';

function readRecord(file: string): SeedRecord | null {
  try {
    const r = JSON.parse(readFileSync(sidecarOf(file), 'utf8')) as Partial<SeedRecord>;
    if (typeof r.version !== 'string' || typeof r.index !== 'string') return null;
    if (typeof r.bytes !== 'number') return null;
    return {
      version: r.version,
      index: r.index,
      bytes: r.bytes,
      ...(typeof r.mtimeMs === 'number' ? { mtimeMs: r.mtimeMs } : {}),
      ...(typeof r.sha256 === 'string' ? { sha256: r.sha256 } : {}),
    };
  } catch {
    return null;
  }
}

async function writeRecord(file: string, r: SeedRecord): Promise<void> {
  const side = sidecarOf(file);
  await fs.writeFile(`${side}.tmp`, `${JSON.stringify(r)}\n`);
  await fs.rename(`${side}.tmp`, side);
}

/** Copies renames, notes and imported labels of SAEs that have the same shape in both. */
function carryEdits(from: Db, to: Db): number {
  const shape = (db: Db): Map<string, string> =>
    new Map(
      (
        db.prepare('select sae_id, d_sae, d_in, hook from saes').all() as {
          sae_id: string;
          d_sae: number;
          d_in: number;
          hook: string;
        }[]
      ).map((s) => [s.sae_id, `${s.d_sae}/${s.d_in}/${s.hook}`]),
    );
  const old = shape(from);
  const now = shape(to);
  let carried = 0;
  const insEdit = to.prepare(
    `insert or replace into user_edits(sae_id, idx, label, notes, updated_at)
     values (?, ?, ?, ?, ?)`,
  );
  const insImported = to.prepare(
    `insert or replace into imported_labels(sae_id, idx, source, description) values (?, ?, ?, ?)`,
  );
  to.transaction(() => {
    for (const [saeId, s] of now) {
      if (old.get(saeId) !== s) continue;
      const edits = from
        .prepare('select idx, label, notes, updated_at from user_edits where sae_id = ?')
        .all(saeId) as {
        idx: number;
        label: string | null;
        notes: string | null;
        updated_at: string;
      }[];
      for (const e of edits) insEdit.run(saeId, e.idx, e.label, e.notes, e.updated_at);
      const imported = from
        .prepare('select idx, source, description from imported_labels where sae_id = ?')
        .all(saeId) as { idx: number; source: string; description: string }[];
      for (const i of imported) insImported.run(saeId, i.idx, i.source, i.description);
      carried += edits.length + imported.length;
      if (edits.length + imported.length > 0) refreshLabels(to, saeId);
    }
  })();
  return carried;
}

/**
 * Makes `file` a copy of the shipped index, or keeps it. `release` closes every connection
 * the caller holds on `file` (called only before the old copy is moved aside).
 */
export async function syncSeed(
  src: SeedSource,
  file: string,
  release: () => void,
): Promise<SeedOutcome> {
  const st = statSync(src.shipped);
  const sha256 = async (): Promise<string> =>
    createHash('sha256')
      .update(await fs.readFile(src.shipped))
      .digest('hex');
  const base = { version: src.version, index: path.basename(src.shipped), bytes: st.size };
  if (!existsSync(file)) {
    const digest = createHash('sha256');
    await unpackIndex(src.shipped, file, digest);
    const record: SeedRecord = { ...base, mtimeMs: st.mtimeMs, sha256: digest.digest('hex') };
    // the shipped bytes as they are: its first open checks the structure, not every page
    trustAsChecked(file);
    await writeRecord(file, record);
    return { outcome: 'seeded' };
  }
  const prev = readRecord(file);
  // No record: built here, or copied before records were kept.
  if (!prev) return { outcome: 'kept' };
  const same = prev.version === base.version && prev.index === base.index && prev.bytes === st.size;
  // The same name, version and size: the content decides, unless the file is untouched since
  // it was last hashed; a record from before hashes were kept is trusted and given one.
  if (same && prev.sha256 !== undefined && prev.mtimeMs === st.mtimeMs) return { outcome: 'kept' };
  const hash = await sha256();
  const record: SeedRecord = { ...base, mtimeMs: st.mtimeMs, sha256: hash };
  if (same && (prev.sha256 === undefined || prev.sha256 === hash)) {
    await writeRecord(file, record);
    return { outcome: 'kept' };
  }
  release();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const backup = file.replace(/\.sqlite$/, `.${stamp}.sqlite`);
  await fs.rename(file, backup);
  for (const ext of ['-wal', '-shm']) await fs.rm(`${file}${ext}`, { force: true });
  await unpackIndex(src.shipped, file);
  let carried = 0;
  if (prev.version === record.version) {
    const from = openDatabase(backup, { readonly: true });
    const to = openDatabase(file, { migrations });
    try {
      carried = carryEdits(from, to);
    } finally {
      from.close();
      to.close();
    }
  }
  await writeRecord(file, record);
  return { outcome: 'reseeded', backup, carried };
}
