/**
 * The notices of this run (see preload/contract/notices.ts): kept in order, listed by
 * `app.notices`, each new one announced to listeners (the `app.notice` event).
 */
import path from 'node:path';
import type { Notice } from '../../preload/contract';
import type { Recovery } from '../db/recover';

export class NoticeBoard {
  private readonly items: Notice[] = [];
  private readonly listeners = new Set<(n: Notice) => void>();
  private readonly warned = new Set<string>();

  list(): Notice[] {
    return [...this.items];
  }

  subscribe(listener: (n: Notice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  add(notice: Omit<Notice, 'id'>): Notice {
    const n: Notice = { id: `notice-${this.items.length + 1}`, ...notice };
    this.items.push(n);
    console.warn(`[orrery] ${n.title} ${n.message}${n.movedTo ? ` Old file: ${n.movedTo}` : ''}`);
    for (const l of this.listeners) l(n);
    return n;
  }

  /**
   * Something a loaded model says a person should know (RuntimeInfo.warnings), once per text
   * for this run of the app.
   */
  modelWarning(packId: string, text: string): Notice | null {
    const key = `${packId}\0${text}`;
    if (this.warned.has(key)) return null;
    this.warned.add(key);
    return this.add({
      kind: 'model_warning',
      title: `Model ${packId}:`,
      message: text,
      file: null,
      movedTo: null,
      at: new Date().toISOString(),
    });
  }

  /** A database that was moved aside and started afresh; `what` names it for a person. */
  databaseRecovered(r: Recovery, what: string): Notice {
    return this.add({
      kind: 'database_recovered',
      title: `${what} could not be opened and was started afresh.`,
      message: `${path.basename(r.file)} could not be used: ${r.reason}. Nothing was deleted: the old file is kept beside it.`,
      file: r.file,
      movedTo: r.movedTo,
      at: r.at,
    });
  }
}
