/**
 * The titles table for issue 15's closing note, read from each default pack's shipped index:
 * per SAE, the share of live features whose title is a plain phrase and the share agreeing
 * with their cluster badge.
 *   npx tsx bench/titleFigures.ts [pack dir…]   (default: models/emoji models/glyphs models/text-fortunes)
 * Plain is stricter than the titles stage's own count (isPlainPhrase): besides key=value and
 * bare token lists, a bare list of example names ("Pictures like a and b") or of words with
 * nothing about where they fire ("Words like ‘a’ and ‘b’") is not counted as plain.
 * Badges (the titles stage's figures): agree = the title names the cluster badge's concept (or
 * one inside it), other = a named cluster whose concept the feature's own evidence does not
 * hold (its card shows the badge as "Near: … (not this one)"), mixed = a cluster with no one
 * concept (its badge claims nothing). Contradictions are read from the cards as the app shows
 * them: a badge shown plainly on a card whose title does not name its concept (an effect
 * badge's adjective missing from the title's words, or the concept missing from what the
 * titles stage stored for it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openIndex } from '../main/index';
import { readCard } from '../main/index/card';
import type { Db } from '../main/db/connection';
import { isPlainPhrase } from '../main/index/build/titles';
import { unpackIndex } from '../main/index/packedIndex';

export function strictlyPlain(title: string | null): boolean {
  if (!isPlainPhrase(title)) return false;
  const t = (title ?? '').trim();
  // a bare list of example names
  if (/^(Pictures|Faces|Examples|Emoji) like /.test(t)) return false;
  // words with nothing about where or what: "Words like ‘a’ and ‘b’"
  if (/^(Words|Words and signs) like /.test(t) && !/ — | in |mostly|before|after/.test(t))
    return false;
  return true;
}

/** Live features whose card shows a badge plainly that their title does not name. */
export function countContradictions(db: Db, sae: string): number {
  const fs = db
    .prepare(
      `select f.idx, f.label, f.concept, c.concept as badge from features f
       join clusters c on c.sae_id = f.sae_id and c.id = f.cluster
       where f.sae_id = ? and f.n_active > 0 and c.concept is not null`,
    )
    .all(sae) as { idx: number; label: string | null; concept: string | null; badge: string }[];
  let n = 0;
  for (const f of fs) {
    const card = readCard(db, sae, f.idx)?.card;
    if (!card?.cluster || card.cluster.relation === 'other') continue;
    const named = (f.concept ?? '').split('\n').includes(f.badge);
    const adjective = f.badge.startsWith('effect:') ? f.badge.slice('effect:'.length) : null;
    if (!named || (adjective && !(card.label ?? '').includes(adjective))) n++;
  }
  return n;
}

async function main(): Promise<void> {
  const packs = process.argv.slice(2);
  const dirs = packs.length ? packs : ['models/emoji', 'models/glyphs', 'models/text-fortunes'];
  const tmp = mkdtempSync(path.join(tmpdir(), 'orrery-titles-'));
  const rows: string[] = [];
  rows.push(
    '| pack | SAE | live | plain (strict) | plain (stage) | by source | badge agree / named | named elsewhere ("not this one") | mixed | contradictions |',
  );
  rows.push('|---|---|---|---|---|---|---|---|---|---|');
  try {
    for (const dir of dirs) {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
        id: string;
        index?: string;
      };
      const src = path.join(dir, manifest.index ?? 'features.sqlite');
      let file = src;
      if (src.endsWith('.br')) {
        file = path.join(tmp, `${manifest.id}.sqlite`);
        await unpackIndex(src, file);
      }
      const db = openIndex(file);
      const saes = db.prepare('select sae_id from saes order by sae_id').all() as {
        sae_id: string;
      }[];
      for (const { sae_id: sae } of saes) {
        const fs = db
          .prepare('select label, label_source from features where sae_id = ? and n_active > 0')
          .all(sae) as { label: string | null; label_source: string | null }[];
        const n = fs.length;
        const strict = fs.filter((f) => strictlyPlain(f.label)).length;
        const loose = fs.filter((f) => isPlainPhrase(f.label)).length;
        const by = new Map<string, number>();
        for (const f of fs)
          by.set(f.label_source ?? 'none', (by.get(f.label_source ?? 'none') ?? 0) + 1);
        const st = db
          .prepare("select detail from index_stages where sae_id = ? and stage = 'titles'")
          .get(sae) as { detail: string } | undefined;
        const d = st
          ? (JSON.parse(st.detail) as { agree: number; mixed: number; other?: number })
          : null;
        const contradictions = countContradictions(db, sae);
        const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : '—');
        const other = d?.other ?? 0;
        rows.push(
          `| ${manifest.id} | ${sae} | ${n} | ${pct(strict, n)} | ${pct(loose, n)} | ${[...by]
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')} | ${
            d
              ? `${pct(d.agree, d.agree + other)} (${d.agree}/${d.agree + other})`
              : 'no titles stage'
          } | ${d ? `${other} (${pct(other, n)})` : '—'} | ${d ? d.mixed : '—'} | ${contradictions} |`,
        );
      }
      db.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(rows.join('\n'));
}

if (require.main === module) void main();
