/**
 * Sessions in SQLite: each run is a step whose parent is the step that was current, so undo
 * and redo walk the tree and a run after an undo starts a branch. Runs of one gesture (the
 * page gives every run of a dial drag or a paint stroke the same gesture id) are one step: the
 * last run replaces the step's input, dials and output. No clock decides that; the clock only
 * stamps times (and is injected in tests). Steps can be named; every step carries a preview
 * (its after-image's blob, or the start of its text) for the history. Every write is one transaction on a WAL database: a crash
 * never leaves half a step, and a method returns only after its transaction committed.
 *
 * The app runs this store in the sessions worker (./worker.ts, reached through ./client.ts),
 * so its synchronous commits never hold the API thread; tests may use it directly.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  OrreryError,
  RecipeSchema,
  type DialInput,
  type ListedDial,
  type Recipe,
  type SavedSelection,
  type Session,
  type Step,
} from '../../preload/contract';
import { type Db } from '../db/connection';
import { openRecovering, type Recovery } from '../db/recover';
import { blobHashes } from './blobRefs';
import { sessionMigrations } from './migrations';

interface SessionRow {
  id: string;
  name: string;
  pack_id: string;
  created_at: string;
  updated_at: string;
  head_step: number | null;
  steps: number;
  dials_json: string | null;
}

interface StepRow {
  id: number;
  parent_id: number | null;
  kind: Step['kind'];
  created_at: string;
  input_json: string;
  dials_json: string;
  output_json: string;
  gesture_id: string | null;
  name: string | null;
  preview_blob: string | null;
  preview_text: string | null;
}

/** Characters of a text step's output its preview keeps. */
export const PREVIEW_CHARS = 120;

/** What a history shows of a step (its preview): selected with every step. */
const PREVIEW = `json_extract(output_json, '$.afterBlob') as preview_blob,
  substr(json_extract(output_json, '$.after.text'), 1, ${PREVIEW_CHARS}) as preview_text`;

export interface SessionDetail {
  session: Session;
  steps: Step[];
  /** The page's list of dials (setDials), null before any was saved. */
  dials?: ListedDial[] | null;
}

/** Times of sessions and steps; tests pass their own. */
export type Clock = () => Date;

function toSession(r: SessionRow): Session {
  return {
    id: r.id,
    name: r.name,
    packId: r.pack_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    headStepId: r.head_step,
    steps: r.steps,
  };
}

function toStep(r: StepRow): Step {
  return {
    id: r.id,
    parentId: r.parent_id,
    kind: r.kind,
    createdAt: r.created_at,
    input: JSON.parse(r.input_json) as Record<string, unknown>,
    dials: JSON.parse(r.dials_json) as DialInput[],
    output: JSON.parse(r.output_json) as Record<string, unknown>,
    name: r.name,
    preview: {
      ...(typeof r.preview_blob === 'string' ? { afterBlob: r.preview_blob } : {}),
      ...(typeof r.preview_text === 'string' ? { text: r.preview_text } : {}),
    },
  };
}

export class SessionStore {
  private readonly db: Db;
  private readonly now: () => string;

  /**
   * Opens (creating, migrating) the sessions database. One that is not a usable database is
   * moved aside, a fresh one is created, and `onRecovered` says so. Commits are WAL with
   * synchronous=NORMAL: a committed transaction is in the -wal file before the call returns, so
   * a step, rename or preset acknowledged to the person survives the process being killed
   * (kill -9, a crash). A power cut or OS crash may lose the last few transactions (NORMAL does
   * not fsync each commit; the WAL is synced at checkpoints), never corrupt the database.
   */
  constructor(
    file: string,
    onRecovered: (r: Recovery) => void = () => undefined,
    clock: Clock = () => new Date(),
  ) {
    this.now = () => clock().toISOString();
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = openRecovering(
      file,
      { migrations: sessionMigrations, synchronous: 'NORMAL' },
      onRecovered,
    );
  }

  close(): void {
    this.db.close();
  }

  /** Every blob hash the database names (steps of all branches), for the blob collector. */
  blobHashes(): string[] {
    return blobHashes(this.db);
  }

  private row(id: string): SessionRow {
    const r = this.db
      .prepare(
        `select s.*, (select count(*) from steps where session_id = s.id) as steps
         from sessions s where s.id = ?`,
      )
      .get(id) as SessionRow | undefined;
    if (!r) throw new OrreryError('not_found', `no session "${id}"`);
    return r;
  }

  create(packId: string, name?: string): Session {
    const id = `ses-${randomBytes(6).toString('hex')}`;
    const t = this.now();
    this.db
      .prepare(
        'insert into sessions (id, name, pack_id, created_at, updated_at) values (?, ?, ?, ?, ?)',
      )
      .run(id, name ?? `Session ${t.slice(0, 16).replace('T', ' ')}`, packId, t, t);
    return toSession(this.row(id));
  }

  list(packId?: string): Session[] {
    const rows = this.db
      .prepare(
        `select s.*, (select count(*) from steps where session_id = s.id) as steps from sessions s
         ${packId ? 'where s.pack_id = ?' : ''} order by s.updated_at desc`,
      )
      .all(...(packId ? [packId] : [])) as SessionRow[];
    return rows.map(toSession);
  }

  get(id: string): SessionDetail {
    const row = this.row(id);
    const session = toSession(row);
    // Outputs (images as PNG) travel for the current step only; the others are re-run when chosen.
    const steps = (
      this.db
        .prepare(
          `select id, parent_id, kind, created_at, input_json, dials_json, name, ${PREVIEW},
                  case when id = ? then output_json else '{}' end as output_json
           from steps where session_id = ? order by id`,
        )
        .all(session.headStepId ?? -1, id) as StepRow[]
    ).map(toStep);
    const dials = row.dials_json === null ? null : (JSON.parse(row.dials_json) as ListedDial[]);
    return { session, steps, dials };
  }

  /**
   * Saves a finished run as a child of the current step and makes it current (committed
   * before this returns). A run with the current step's gesture id and kind is the same
   * gesture (a dial drag, a paint stroke): it updates that step's input, dials and output
   * instead, also committed before this returns.
   */
  record(
    sessionId: string,
    kind: Step['kind'],
    input: Record<string, unknown>,
    dials: readonly DialInput[],
    output: Record<string, unknown>,
    gestureId: string | null = null,
  ): Step {
    return this.db.transaction(() => {
      const merged = gestureId === null ? null : this.gestureStep(sessionId, kind, gestureId);
      if (merged) {
        this.db
          .prepare(
            `update steps set input_json = ?, dials_json = ?, output_json = ?, created_at = ?
             where id = ?`,
          )
          .run(
            JSON.stringify(input),
            JSON.stringify(dials),
            JSON.stringify(output),
            this.now(),
            merged.id,
          );
        return this.stepById(merged.id);
      }
      const s = this.row(sessionId);
      const inputJson = JSON.stringify(input);
      const dialsJson = JSON.stringify(dials);
      if (s.head_step !== null) {
        // Re-running the current step (after an undo, say) is not a new step.
        const head = this.stepRow(s.head_step);
        if (head.kind === kind && head.input_json === inputJson && head.dials_json === dialsJson) {
          if (head.output_json === '{}') {
            this.db
              .prepare('update steps set output_json = ? where id = ?')
              .run(JSON.stringify(output), head.id);
          }
          return this.stepById(head.id);
        }
      }
      const info = this.db
        .prepare(
          `insert into steps (session_id, parent_id, kind, created_at, input_json, dials_json,
                              output_json, gesture_id)
           values (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          sessionId,
          s.head_step,
          kind,
          this.now(),
          inputJson,
          dialsJson,
          JSON.stringify(output),
          gestureId,
        );
      const id = Number(info.lastInsertRowid);
      this.db
        .prepare('update sessions set head_step = ?, updated_at = ? where id = ?')
        .run(id, this.now(), sessionId);
      return this.stepById(id);
    })();
  }

  /** The current step, when a run of `gestureId` would update it. */
  private gestureStep(sessionId: string, kind: Step['kind'], gestureId: string): Step | null {
    const s = this.row(sessionId);
    if (s.head_step === null) return null;
    const head = this.stepRow(s.head_step);
    return head.gesture_id === gestureId && head.kind === kind ? toStep(head) : null;
  }

  private stepRow(id: number): StepRow {
    return this.db.prepare(`select *, ${PREVIEW} from steps where id = ?`).get(id) as StepRow;
  }

  private stepById(id: number): Step {
    return toStep(this.stepRow(id));
  }

  private setHead(sessionId: string, stepId: number | null): SessionDetail {
    this.db
      .prepare('update sessions set head_step = ?, updated_at = ? where id = ?')
      .run(stepId, this.now(), sessionId);
    return this.get(sessionId);
  }

  undo(sessionId: string): SessionDetail {
    const s = this.row(sessionId);
    if (s.head_step === null) throw new OrreryError('bad_input', 'nothing to undo');
    const parent = this.db.prepare('select parent_id from steps where id = ?').get(s.head_step) as {
      parent_id: number | null;
    };
    return this.setHead(sessionId, parent.parent_id);
  }

  redo(sessionId: string): SessionDetail {
    const s = this.row(sessionId);
    const child = this.db
      .prepare(
        `select id from steps where session_id = ? and parent_id ${s.head_step === null ? 'is null' : '= ?'}
         order by id desc limit 1`,
      )
      .get(...(s.head_step === null ? [sessionId] : [sessionId, s.head_step])) as
      { id: number } | undefined;
    if (!child) throw new OrreryError('bad_input', 'nothing to redo');
    return this.setHead(sessionId, child.id);
  }

  checkout(sessionId: string, stepId: number): SessionDetail {
    this.row(sessionId);
    const hit = this.db
      .prepare('select id from steps where id = ? and session_id = ?')
      .get(stepId, sessionId);
    if (!hit) throw new OrreryError('not_found', `session "${sessionId}" has no step ${stepId}`);
    return this.setHead(sessionId, stepId);
  }

  /** Names a step (an empty name takes its name away). */
  renameStep(sessionId: string, stepId: number, name: string): Step {
    const hit = this.db
      .prepare('select id from steps where id = ? and session_id = ?')
      .get(stepId, sessionId);
    if (!hit) throw new OrreryError('not_found', `session "${sessionId}" has no step ${stepId}`);
    this.db
      .prepare('update steps set name = ? where id = ?')
      .run(name.trim() === '' ? null : name.trim(), stepId);
    this.db.prepare('update sessions set updated_at = ? where id = ?').run(this.now(), sessionId);
    return this.stepById(stepId);
  }

  rename(sessionId: string, name: string): Session {
    this.row(sessionId);
    this.db
      .prepare('update sessions set name = ?, updated_at = ? where id = ?')
      .run(name, this.now(), sessionId);
    return toSession(this.row(sessionId));
  }

  /**
   * Keeps the page's list of dials with the session (each at rest: the values are the steps'),
   * so dials added and not yet moved, which are in no step, come back when it is reopened.
   * Not a step, and the session's time stays as it is.
   */
  setDials(sessionId: string, dials: readonly ListedDial[]): boolean {
    this.row(sessionId);
    return (
      this.db
        .prepare('update sessions set dials_json = ? where id = ?')
        .run(JSON.stringify(dials), sessionId).changes > 0
    );
  }

  remove(sessionId: string): boolean {
    return this.db.prepare('delete from sessions where id = ?').run(sessionId).changes > 0;
  }

  exportRecipe(sessionId: string): Recipe {
    const { session, steps } = this.get(sessionId);
    return {
      orrery: 'recipe',
      version: 1,
      name: session.name,
      packId: session.packId,
      steps: steps.map((s) => ({
        ref: s.id,
        parent: s.parentId,
        kind: s.kind,
        input: s.input,
        dials: s.dials,
        ...(s.name === null ? {} : { name: s.name }),
      })),
      head: session.headStepId,
    };
  }

  /** A new session from a recipe: its steps (without outputs; re-running reproduces them). */
  importRecipe(raw: unknown): SessionDetail {
    const parsed = RecipeSchema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new OrreryError(
        'bad_input',
        `not an Orrery recipe: ${i ? `${i.path.join('.') || 'recipe'}: ${i.message}` : 'invalid'}`,
      );
    }
    const recipe = parsed.data;
    const refs = new Set<number>();
    for (const s of recipe.steps) {
      if (refs.has(s.ref)) throw new OrreryError('bad_input', `recipe step ${s.ref} appears twice`);
      if (s.parent !== null && !refs.has(s.parent)) {
        throw new OrreryError(
          'bad_input',
          `recipe step ${s.ref} names parent ${s.parent}, which does not come before it`,
        );
      }
      refs.add(s.ref);
    }
    if (recipe.head !== null && !refs.has(recipe.head))
      throw new OrreryError('bad_input', `recipe head ${recipe.head} is not one of its steps`);
    return this.db.transaction(() => {
      const session = this.create(recipe.packId, recipe.name);
      const ids = new Map<number, number>();
      const insert = this.db.prepare(
        `insert into steps (session_id, parent_id, kind, created_at, input_json, dials_json,
                            output_json, name)
         values (?, ?, ?, ?, ?, ?, '{}', ?)`,
      );
      for (const s of recipe.steps) {
        const info = insert.run(
          session.id,
          s.parent === null ? null : (ids.get(s.parent) ?? null),
          s.kind,
          this.now(),
          JSON.stringify(s.input),
          JSON.stringify(s.dials),
          s.name ?? null,
        );
        ids.set(s.ref, Number(info.lastInsertRowid));
      }
      return this.setHead(session.id, recipe.head === null ? null : (ids.get(recipe.head) ?? null));
    })();
  }

  savePreset(
    packId: string,
    name: string,
    dials: readonly DialInput[],
  ): { packId: string; name: string; dials: DialInput[]; createdAt: string } {
    const t = this.now();
    this.db
      .prepare(
        `insert into presets (pack_id, name, dials_json, created_at) values (?, ?, ?, ?)
         on conflict (pack_id, name) do update set dials_json = excluded.dials_json, created_at = excluded.created_at`,
      )
      .run(packId, name, JSON.stringify(dials), t);
    return { packId, name, dials: [...dials], createdAt: t };
  }

  listPresets(
    packId: string,
  ): { packId: string; name: string; dials: DialInput[]; createdAt: string }[] {
    return (
      this.db.prepare('select * from presets where pack_id = ? order by name').all(packId) as {
        pack_id: string;
        name: string;
        dials_json: string;
        created_at: string;
      }[]
    ).map((r) => ({
      packId: r.pack_id,
      name: r.name,
      dials: JSON.parse(r.dials_json) as DialInput[],
      createdAt: r.created_at,
    }));
  }

  removePreset(packId: string, name: string): boolean {
    return (
      this.db.prepare('delete from presets where pack_id = ? and name = ?').run(packId, name)
        .changes > 0
    );
  }

  /** Saves a selection under its name in its pack (replacing one of that name). */
  saveSelection(sel: Omit<SavedSelection, 'createdAt'>): SavedSelection {
    const t = this.now();
    this.db
      .prepare(
        `insert into selections (pack_id, name, sae_id, features_json, members_json, origin, created_at)
         values (?, ?, ?, ?, ?, ?, ?)
         on conflict (pack_id, name) do update set sae_id = excluded.sae_id,
           features_json = excluded.features_json, members_json = excluded.members_json,
           origin = excluded.origin, created_at = excluded.created_at`,
      )
      .run(
        sel.packId,
        sel.name,
        sel.saeId,
        JSON.stringify(sel.features),
        sel.members === null ? null : JSON.stringify(sel.members),
        sel.origin,
        t,
      );
    return { ...sel, createdAt: t };
  }

  listSelections(packId: string): SavedSelection[] {
    const rows = this.db
      .prepare('select * from selections where pack_id = ? order by name')
      .all(packId) as {
      pack_id: string;
      name: string;
      sae_id: string;
      features_json: string;
      members_json: string | null;
      origin: SavedSelection['origin'];
      created_at: string;
    }[];
    return rows.map((r) => ({
      packId: r.pack_id,
      name: r.name,
      saeId: r.sae_id,
      features: JSON.parse(r.features_json) as number[],
      members:
        r.members_json === null ? null : (JSON.parse(r.members_json) as SavedSelection['members']),
      origin: r.origin,
      createdAt: r.created_at,
    }));
  }

  removeSelection(packId: string, name: string): boolean {
    return (
      this.db.prepare('delete from selections where pack_id = ? and name = ?').run(packId, name)
        .changes > 0
    );
  }
}
