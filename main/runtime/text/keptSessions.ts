/**
 * The sessions of the text graphs other than the whole graph (textGraphs.ts: the prefixes and
 * tails made for pin/scale hooks, and the split graphs the SAE readers run), held within a
 * budget of model bytes: opening one past the budget closes the least recently used ones that
 * no run is using. A closed session opens again on its next run, so a caller holding one never
 * sees it closed, and one in use is closed only when its runs end. The inference worker runs
 * calls at once (a generation beside a reader's forward pass), which is why closing waits for
 * runs rather than for a quiet moment.
 */
import type { OnnxSession, TensorLike } from '../onnx';

/** What a step or a reader runs a graph through: an OnnxSession, or a kept one. */
export type GraphSession = Pick<OnnxSession, 'run' | 'runInto'>;

export class KeptSession implements GraphSession {
  private session: Promise<OnnxSession> | null;
  private running = 0;
  private closeWhenIdle = false;
  /** When it last began a run (its keeper's count). */
  used = 0;

  constructor(
    private readonly keeper: SessionKeeper,
    /** The model bytes it holds (its graph's file size): what the budget counts. */
    readonly bytes: number,
    /** Opens the session (again): reads and, for a merged graph, merges its files. */
    private readonly open: () => Promise<OnnxSession>,
    /** A session opened already (a merged graph's, opened to check it). */
    first?: OnnxSession,
  ) {
    this.session = first ? Promise.resolve(first) : null;
    if (first) keeper.opened(this);
  }

  get isOpen(): boolean {
    return this.session !== null;
  }

  get busy(): boolean {
    return this.running > 0;
  }

  run(
    feeds: Record<string, TensorLike>,
    fetches?: readonly string[],
  ): Promise<Record<string, TensorLike>> {
    return this.using((s) => s.run(feeds, fetches));
  }

  runInto(
    feeds: Record<string, TensorLike>,
    outputs: Record<string, TensorLike | null>,
  ): Promise<Record<string, TensorLike>> {
    return this.using((s) => s.runInto(feeds, outputs));
  }

  /** The session, opened (errors of the open reach the caller, and the next call tries again). */
  opened(): Promise<OnnxSession> {
    if (!this.session) {
      const s = this.open();
      this.session = s;
      s.then(
        () => this.keeper.opened(this),
        () => {
          if (this.session === s) this.session = null;
        },
      );
    }
    return this.session;
  }

  /** Closes it now when no run is using it, else when its last run ends. */
  async close(): Promise<void> {
    if (this.running > 0) {
      this.closeWhenIdle = true;
      return;
    }
    const s = this.session;
    this.session = null;
    this.closeWhenIdle = false;
    const session = await s?.catch(() => null);
    await session?.release();
  }

  private async using<T>(fn: (s: OnnxSession) => Promise<T>): Promise<T> {
    this.running += 1;
    this.closeWhenIdle = false;
    this.keeper.touch(this);
    try {
      return await fn(await this.opened());
    } finally {
      this.running -= 1;
      if (this.closeWhenIdle && this.running === 0) await this.close();
    }
  }
}

/** The kept sessions of one text engine, and the budget they are held within. */
export class SessionKeeper {
  private readonly all = new Set<KeptSession>();
  private clock = 0;

  /** `budget`: model bytes held open at most (Infinity: never close). */
  constructor(readonly budget: number) {}

  /** A session kept within the budget (see KeptSession). */
  keep(bytes: number, open: () => Promise<OnnxSession>, first?: OnnxSession): KeptSession {
    const k = new KeptSession(this, bytes, open, first);
    this.all.add(k);
    return k;
  }

  /** Model bytes of the sessions open now. */
  get openBytes(): number {
    let n = 0;
    for (const k of this.all) if (k.isOpen) n += k.bytes;
    return n;
  }

  /** A run begins on `k`. */
  touch(k: KeptSession): void {
    this.clock += 1;
    k.used = this.clock;
  }

  /** `k` opened: the least recently used others close until the open ones fit the budget. */
  opened(k: KeptSession): void {
    let over = this.openBytes - this.budget;
    if (over <= 0) return;
    const idle = [...this.all]
      .filter((x) => x !== k && x.isOpen && !x.busy)
      .sort((a, b) => a.used - b.used);
    for (const x of idle) {
      if (over <= 0) break;
      over -= x.bytes;
      void x.close();
    }
  }

  /** Closes every session (the engine's release). */
  async release(): Promise<void> {
    for (const k of this.all) await k.close();
    this.all.clear();
  }
}
