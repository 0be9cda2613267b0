/**
 * Part 3: kill -9 during writes. A child process (support/killChild.ts) writes through the
 * API's dispatcher (session steps, drag ticks, renames, presets; an index build over a folder of texts,
 * then feature renames) and prints an `ack` line after each call returned; the parent kills it
 * with SIGKILL after a random number of acks, at least 30 times over the same home. After each
 * kill every database file passes PRAGMA integrity_check and every acknowledged write is there.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../main/db/connection';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTmp, fixturePacks, repoRoot, tmpDir } from '../support/tmp';
import { clip, recordPart } from './support/figures';
import { fixtureModels } from './support/server';
import { rng } from './support/hostile';

const KILLS = Number(process.env.RELIABILITY_KILLS ?? 30);
const TEXT = 'orrery-text-tiny';
const SAE = 'res1-64';
const child = path.join(repoRoot, 'tests/reliability/support/killChild.ts');

afterAll(cleanupTmp);

/** A folder of texts for an index build: paragraphs of the tiny pack's examples. */
function corpusFolder(at: string, n: number): string {
  const dir = path.join(at, `corpus-${n}`);
  mkdirSync(dir, { recursive: true });
  const texts = readFileSync(path.join(fixturePacks, 'text-tiny', 'examples.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text.replace(/\n\s*\n/g, '\n'));
  for (let f = 0; f < 3; f++)
    writeFileSync(path.join(dir, `part-${f}.txt`), texts.slice(f * 8, f * 8 + 8).join('\n\n'));
  return dir;
}

interface Life {
  lines: string[];
  /** Was an index build under way (started, not acknowledged) when the kill came? */
  duringBuild: boolean;
  exit: string;
  stderr: string;
}

/**
 * Runs one life of the child and kills it after `acks` acknowledgements (plus a random wait);
 * `afterBuild`: counting feature renames, which follow the index build (kills among them).
 */
function live(args: string[], acks: number, waitMs: number, afterBuild: boolean): Promise<Life> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buf = '';
    let stderr = '';
    let killed = false;
    let duringBuild = false;
    const kill = (): void => {
      if (killed) return;
      killed = true;
      const started = lines.filter((l) => l.startsWith('build start')).length;
      const done = lines.filter((l) => l.startsWith('ack build')).length;
      duringBuild = started > done;
      p.kill('SIGKILL');
    };
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      lines.push(...parts);
      const counted = afterBuild
        ? lines.filter((l) => l.startsWith('ack label')).length
        : lines.filter((l) => l.startsWith('ack ')).length;
      if (!killed && counted >= acks) {
        if (waitMs === 0) kill();
        else setTimeout(kill, waitMs);
      }
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.once('close', (code, signal) => {
      // A partial last line was not a whole ack: it does not count.
      resolve({ lines, duringBuild, exit: signal ?? String(code), stderr });
    });
  });
}

interface Expectation {
  steps: Map<number, string>;
  /** Per session: its name history, acked or tried, in order. */
  names: Map<string, { name: string; acked: boolean }[]>;
  presets: Set<string>;
  /** Per drag gesture: its step and the tick values sent, acked or tried, in order. */
  ticks: Map<string, { step: number | null; history: { value: number; acked: boolean }[] }>;
  /** Per index file and feature: label history, in order. */
  labels: Map<string, { label: string; acked: boolean }[]>;
}

function integrity(file: string): string {
  try {
    const db = openDatabase(file);
    try {
      return String(db.pragma('integrity_check', { simple: true }));
    } finally {
      db.close();
    }
  } catch (e) {
    return `cannot open: ${(e as Error).message}`;
  }
}

/** The acknowledged writes that are missing now. */
function lost(home: string, want: Expectation): string[] {
  const out: string[] = [];
  const db = openDatabase(path.join(home, 'sessions.sqlite'));
  try {
    const step = db.prepare('select session_id from steps where id = ?');
    for (const [id, sid] of want.steps) {
      const row = step.get(id) as { session_id: string } | undefined;
      if (row?.session_id !== sid) out.push(`step ${id} of session ${sid}`);
    }
    const name = db.prepare('select name from sessions where id = ?');
    for (const [sid, history] of want.names) {
      const row = name.get(sid) as { name: string } | undefined;
      const lastAck = history.map((h) => h.acked).lastIndexOf(true);
      const allowed = history.slice(lastAck).map((h) => h.name);
      if (!row || !allowed.includes(row.name)) out.push(`name of session ${sid}: ${row?.name}`);
    }
    const preset = db.prepare('select 1 from presets where pack_id = ? and name = ?');
    for (const p of want.presets) if (!preset.get(TEXT, p)) out.push(`preset ${p}`);
    // A drag's step holds its last acknowledged tick, or a later one that was sent.
    const dials = db.prepare('select dials_json from steps where id = ?');
    for (const [gesture, { step, history }] of want.ticks) {
      const lastAck = history.map((h) => h.acked).lastIndexOf(true);
      if (step === null || lastAck < 0) continue;
      const row = dials.get(step) as { dials_json: string } | undefined;
      const value = row ? (JSON.parse(row.dials_json) as { value: number }[])[0]?.value : undefined;
      const allowed = history.slice(lastAck).map((h) => h.value);
      if (value === undefined || !allowed.includes(value))
        out.push(`tick of ${gesture} (step ${step}): ${value}`);
    }
  } finally {
    db.close();
  }
  for (const [key, history] of want.labels) {
    const [file, feature] = key.split('#') as [string, string];
    const lastAck = history.map((h) => h.acked).lastIndexOf(true);
    if (lastAck < 0) continue;
    const idx = openDatabase(file);
    try {
      const row = idx
        .prepare('select label from user_edits where sae_id = ? and idx = ?')
        .get(SAE, Number(feature)) as { label: string } | undefined;
      const allowed = history.slice(lastAck).map((h) => h.label);
      if (!row || !allowed.includes(row.label))
        out.push(`label of feature ${feature} in ${path.basename(file)}: ${row?.label}`);
    } finally {
      idx.close();
    }
  }
  return out;
}

describe('part 3: kill -9 during writes', () => {
  it(`${KILLS} kills: databases pass integrity_check, nothing acknowledged is lost`, async () => {
    const root = tmpDir('orrery-rel-kill-');
    const home = path.join(root, 'home');
    const models = fixtureModels();
    const r = rng(4242);
    const want: Expectation = {
      steps: new Map(),
      names: new Map(),
      presets: new Set(),
      ticks: new Map(),
      labels: new Map(),
    };
    let corrupt = 0;
    let lostWrites = 0;
    let duringBuild = 0;
    let builds = 0;
    let acked = 0;
    let corpusN = 0;
    const problems: string[][] = [];
    for (let k = 0; k < KILLS; k++) {
      const corpus = corpusFolder(root, corpusN);
      const indexFile = path.join(
        home,
        'index',
        `${TEXT}~${createHash('sha256').update(realpathSync(corpus)).digest('hex').slice(0, 12)}.sqlite`,
      );
      // Kill early (during the first writes or the build) as often as late.
      const acks = 1 + Math.floor(r() * (r() < 0.5 ? 4 : 14));
      const waitMs = r() < 0.5 ? 0 : Math.floor(r() * 40);
      // Every third life lets the build finish and dies among the label writes that follow.
      const life = await live([home, models, root, corpus, String(k)], acks, waitMs, k % 3 === 2);
      if (life.duringBuild) duringBuild++;
      for (const line of life.lines) {
        const [verb, what, ...rest] = line.split(' ');
        if (verb === 'ack') acked++;
        if (what === 'step' && verb === 'ack') want.steps.set(Number(rest[1]), rest[0] ?? '');
        if (what === 'session' && verb === 'ack')
          want.names.set(rest[0] ?? '', [{ name: `life ${k}`, acked: true }]);
        if (what === 'rename')
          want.names
            .get(rest[0] ?? '')
            ?.push({ name: rest.slice(1).join(' '), acked: verb === 'ack' });
        if (what === 'preset' && verb === 'ack') want.presets.add(rest.slice(1).join(' '));
        if (what === 'tick') {
          // try tick <session> <gesture> <value> | ack tick <session> <gesture> <value> <step>
          const [sid = '', gesture = '', value = '', step] = rest;
          const t = want.ticks.get(gesture) ?? { step: null, history: [] };
          t.history.push({ value: Number(value), acked: verb === 'ack' });
          if (verb === 'ack' && step) {
            t.step = Number(step);
            want.steps.set(Number(step), sid);
          }
          want.ticks.set(gesture, t);
        }
        if (what === 'build' && verb === 'ack') builds++;
        if (what === 'label') {
          const key = `${indexFile}#${rest[0]}`;
          want.labels.set(key, [
            ...(want.labels.get(key) ?? []),
            { label: rest.slice(1).join(' '), acked: verb === 'ack' },
          ]);
        }
      }
      if (life.lines.some((l) => l.startsWith('ack build'))) corpusN++;
      if (life.exit !== 'SIGKILL')
        problems.push([String(k), `exited ${life.exit}`, clip(life.stderr, 200)]);
      // Every database as the kill left it.
      const files = [path.join(home, 'sessions.sqlite')];
      if (existsSync(path.join(home, 'index')))
        for (const f of readdirSync(path.join(home, 'index')))
          if (f.endsWith('.sqlite')) files.push(path.join(home, 'index', f));
      for (const f of files) {
        if (!existsSync(f)) continue;
        const check = integrity(f);
        if (check !== 'ok') {
          corrupt++;
          problems.push([String(k), `integrity_check ${path.basename(f)}`, clip(check, 200)]);
        }
      }
      const missing = lost(home, want);
      lostWrites += missing.length;
      for (const m of missing) problems.push([String(k), 'lost', m]);
      // What is lost once stays lost: count it once.
      for (const m of missing) {
        const step = /^step (\d+)/.exec(m);
        if (step) want.steps.delete(Number(step[1]));
        const tick = /^tick of (\S+)/.exec(m);
        if (tick) want.ticks.delete(tick[1] ?? '');
      }
    }
    const moved = readdirSync(home).filter((f) => f.includes('.corrupt-')).length;
    recordPart({
      part: '3 kill -9',
      order: 3,
      figures: [
        { label: 'kills (SIGKILL)', value: KILLS, goal: '>= 30' },
        { label: '  during an index build', value: duringBuild },
        { label: 'acknowledged writes', value: acked },
        { label: '  session steps', value: want.steps.size },
        {
          label: '  drag ticks',
          value: [...want.ticks.values()].flatMap((t) => t.history).filter((h) => h.acked).length,
        },
        { label: '  presets', value: want.presets.size },
        { label: '  index builds finished', value: builds },
        {
          label: '  feature renames',
          value: [...want.labels.values()].flat().filter((h) => h.acked).length,
        },
        { label: 'corrupt databases', value: corrupt, goal: '0' },
        { label: 'databases moved aside', value: moved, goal: '0' },
        { label: 'acknowledged writes lost', value: lostWrites, goal: '0' },
      ],
      tables: problems.length
        ? [{ title: 'problems', header: ['life', 'what', 'detail'], rows: problems }]
        : [],
    });
    expect(problems).toEqual([]);
    expect(want.steps.size).toBeGreaterThan(0);
    expect([...want.ticks.values()].some((t) => t.history.some((h) => h.acked))).toBe(true);
    expect(duringBuild).toBeGreaterThan(0);
    expect(builds).toBeGreaterThan(0);
  });
});
