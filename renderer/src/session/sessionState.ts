/**
 * The open session outside React (STYLE item 8): the detail the history shows, the last
 * notice about it (an error, or what an import restored), and the "apply" listeners that put
 * a step's input and dials back in place when a move (open, undo, redo, checkout, import)
 * makes another step current. The session actions (sessionActions.ts) are its only writers
 * apart from a run's recorded step (`addStep`).
 */
import type { Step } from '../../../preload/contract';
import { withStep, type SessionDetail } from './sessionView';

export interface SessionNotice {
  text: string;
  tone: 'error' | 'done';
}

type Listener = () => void;

export class SessionState {
  private detail: SessionDetail | null = null;
  private notice: SessionNotice | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly appliers = new Set<(d: SessionDetail) => void>();

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  get = (): SessionDetail | null => this.detail;
  getNotice = (): SessionNotice | null => this.notice;

  private emit(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Called with the session whenever a move makes another step current. */
  onApply(f: (d: SessionDetail) => void): () => void {
    this.appliers.add(f);
    return () => this.appliers.delete(f);
  }

  /** The session after a move: shown, and its current step put back in place. */
  apply(d: SessionDetail): void {
    this.detail = d;
    for (const f of [...this.appliers]) f(d);
    this.emit();
  }

  /** The session as it is, with nothing to put back (a rename). */
  set(d: SessionDetail | null): void {
    this.detail = d;
    this.emit();
  }

  /** A run's recorded step folded in: it is current (a drag's later ticks replace theirs). */
  addStep(step: Step | null): void {
    if (!step || !this.detail) return;
    this.set(withStep(this.detail, step));
  }

  say(text: string, tone: SessionNotice['tone']): void {
    this.notice = { text, tone };
    this.emit();
  }

  dismiss(): void {
    this.notice = null;
    this.emit();
  }
}

/** The app's one session state. */
export const sessionState = new SessionState();
