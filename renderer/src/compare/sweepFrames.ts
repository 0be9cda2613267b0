/**
 * A drag sweep in the page (issue 14; contract sweep.ts): when a drag starts on an image dial
 * (or the pointer rests on its knob), an image.sweep call asks the inference worker for the
 * frames of every value the drag can reach in whole pixels of travel, nearest to the start
 * first, within SWEEP_BYTES. The frames arrive in batches (image.sweep events of raw RGBA) and
 * are kept as views of the received bytes, by the dial list they were made for; a dial change
 * whose list has a frame is drawn from it at once. Once the pointer moves, the sweep follows
 * it (`follow`): when the frames the worker will send next are not the ones ahead of the
 * pointer, a new call (same lane: the worker drops the older after its current batch) asks for
 * the frames still missing in `sweepOrder` from the pointer, so a fast one-way drag is not
 * outrun by frames computed both ways. A move whose frame has not come yet waits for it
 * (`pending`; the owner is told on each arrival) instead of running live; a value off the
 * sweep's grid (a fine step) or a failed sweep takes the live path. A change of the other dials
 * makes the sweep stale; the owner cancels it then, when the drag ends, or when the input or
 * pack changes.
 */
import type {
  DialInput,
  ImageMetrics,
  ImageSweepEvent,
  SweepGrid,
  SweptDial,
} from '../../../preload/contract';
import {
  gridOffsets,
  SWEEP_BYTES,
  SWEEP_VALUES_MAX,
  sweepDials,
  sweepFrameBytes,
} from '../../../preload/contract/sweepMath';
import { getClient } from '../api/client';
import { dragValue, followPointer, sweepOrder, type DialDrag } from '../steer/dialDrag';
import type { RunInput } from '../steer/inputs';
import type { LiveFrame } from './liveFrames';
import type { RgbaImage } from './pixels';

/** Pixels of travel each way a sweep covers at most: the dial's whole calibrated travel. */
export const SWEEP_REACH_PX = 200;

/** A sweep smaller than this (frames each way) is not worth a call: the live path it is. */
const SWEEP_MIN_PX = 16;

export interface SweepHit {
  frame: LiveFrame;
  metrics: ImageMetrics;
  changed: boolean;
}

/**
 * What the sweep has for a dial list: its frame (`hit`); none yet, but it is on the sweep's
 * grid at `px` and will come (`pending`); off the grid or the sweep failed (`live`: run it);
 * the other dials changed (`stale`).
 */
export type SweepLookup =
  | { kind: 'hit'; hit: SweepHit; px: number }
  | { kind: 'pending'; px: number }
  | { kind: 'live' }
  | { kind: 'stale' };

type ImageInput = Extract<RunInput, { kind: 'image-vae' }>;

/** One image.sweep call: the offsets it computes, in its order, and how many have come. */
interface SweepCall {
  jobId: string;
  order: number[];
  sent: number;
}

let count = 0;

/** The key of a dial list: equal lists, equal keys (forApi and sweepDials build the same). */
const keyOf = (dials: readonly DialInput[]): string => JSON.stringify(dials);

/** The dial list less the swept dial (by SAE, feature and members), keyed. */
function othersKey(dials: readonly DialInput[], dial: DialInput): string {
  const members = JSON.stringify(dial.members ?? null);
  return keyOf(
    dials.filter(
      (d) =>
        !(
          d.saeId === dial.saeId &&
          d.feature === dial.feature &&
          JSON.stringify(d.members ?? null) === members
        ),
    ),
  );
}

export class SweepFrames {
  private readonly frames = new Map<string, SweepHit>();
  /** The key of the dial list at each offset within reach, and back. */
  private readonly keyAt = new Map<number, string>();
  private readonly pxOf = new Map<string, number>();
  private readonly others: string;
  private readonly off: () => void;
  /** The calls made, by job id (frames of an older call that come are kept too). */
  private readonly calls = new Map<string, SweepCall>();
  private call: SweepCall;
  /** A call failed: what has not come is left to the live path. */
  private failed = false;
  private cancelled = false;
  /** The pointer's last offset and direction of travel (0 until it moves). */
  private at = 0;
  private dir = 0;
  private readonly arrivals = new Set<() => void>();

  private constructor(
    private readonly packId: string,
    private readonly input: ImageInput,
    private readonly drag: DialDrag,
    private readonly swept: SweptDial,
    private readonly reach: number,
    /** "before", the same for every frame (its canvas is left as it is). */
    private readonly before: RgbaImage,
  ) {
    // the whole grid from the start: sent as its numbers, the worker makes the same values in
    // the same order (gridOffsets: one offset a value, those clamped at the limit left out)
    const grid = { start: drag.start, step: drag.step, reach };
    const order = gridOffsets(grid);
    for (const px of order) {
      const key = keyOf(sweepDials(swept, dragValue(drag, px)));
      this.keyAt.set(px, key);
      this.pxOf.set(key, px);
    }
    this.others = keyOf(swept.others);
    this.off = getClient().on('image.sweep', (e) => {
      const call = this.calls.get(e.jobId);
      if (!call || this.cancelled) return;
      if (e.width !== before.width || e.height !== before.height) return;
      this.receive(call, e);
    });
    this.call = this.ask(order, grid);
  }

  /**
   * Starts a sweep for a drag on an image dial, or null when there is nothing to sweep (a
   * muted dial) or the frames would not fit SWEEP_BYTES with a useful reach.
   */
  static start(
    packId: string,
    input: ImageInput,
    drag: DialDrag,
    swept: SweptDial | null,
    before: RgbaImage,
  ): SweepFrames | null {
    if (!swept || !(drag.step > 0)) return null;
    const fit = Math.floor(SWEEP_BYTES / sweepFrameBytes(before.width, before.height));
    const reach = Math.min(SWEEP_REACH_PX, Math.floor((Math.min(fit, SWEEP_VALUES_MAX) - 1) / 2));
    if (reach < SWEEP_MIN_PX) return null;
    return new SweepFrames(packId, input, drag, swept, reach, before);
  }

  /** One image.sweep call for these offsets, in this order (sent as `grid` when they are its). */
  private ask(order: number[], grid?: SweepGrid): SweepCall {
    const call: SweepCall = {
      jobId: `sweep-${Date.now().toString(36)}-${++count}`,
      order,
      sent: 0,
    };
    this.calls.set(call.jobId, call);
    void getClient()
      .call('image.sweep', {
        packId: this.packId,
        source: this.input.source,
        mask: this.input.mask ?? null,
        swept: this.swept,
        ...(grid ? { grid } : { values: order.map((px) => dragValue(this.drag, px)) }),
        jobId: call.jobId,
      })
      .then((r) => {
        this.calls.delete(call.jobId);
        if (this.cancelled || call !== this.call) return;
        if (r.ok && call.sent > 0) {
          // every frame it was asked for has come, unless an older call's last batch was
          // dropped when this one replaced it: those are asked for again
          const missing = sweepOrder(this.reach, this.at, this.dir, this.has);
          if (missing.length > 0) this.call = this.ask(missing);
          return;
        }
        // it failed, sent nothing of use or something else took its lane: the live path serves
        // what has not come
        this.failed = true;
        this.tell();
      });
    return call;
  }

  private receive(call: SweepCall, e: ImageSweepEvent): void {
    const bytes = this.before.width * this.before.height * 4;
    e.index.forEach((i, k) => {
      const px = call.order[i];
      const key = px === undefined ? undefined : this.keyAt.get(px);
      const metrics = e.metrics[k];
      if (key === undefined || metrics === undefined) return;
      // views of the received bytes: nothing is copied or decoded until one is drawn
      this.frames.set(key, {
        frame: {
          before: this.before.rgba,
          after: e.after.subarray(k * bytes, (k + 1) * bytes),
          heatmap: e.heatmap.subarray(k * bytes, (k + 1) * bytes),
          width: e.width,
          height: e.height,
        },
        metrics,
        changed: e.changed[k] ?? true,
      });
      call.sent = Math.max(call.sent, i + 1);
    });
    this.tell();
  }

  private tell(): void {
    for (const l of [...this.arrivals]) l();
  }

  /** Whether the frame at this offset has come. */
  private has = (px: number): boolean => {
    const key = this.keyAt.get(px);
    return key === undefined || this.frames.has(key);
  };

  /** The frame for these dials, if it has come (see SweepLookup). */
  lookup(dials: readonly DialInput[]): SweepLookup {
    const key = keyOf(dials);
    const hit = this.frames.get(key);
    const px = this.pxOf.get(key);
    if (hit) return { kind: 'hit', hit, px: px ?? 0 };
    if (othersKey(dials, this.swept.dial) !== this.others) return { kind: 'stale' };
    return px === undefined || this.failed || this.cancelled
      ? { kind: 'live' }
      : { kind: 'pending', px };
  }

  /**
   * The pointer is at this offset (told on each move, and again on each arrival while a move
   * waits): when the frames the worker sends next are not the ones ahead of it
   * (followPointer), asks for the missing ones again in sweepOrder from here.
   */
  follow(px: number): void {
    if (this.cancelled || this.failed) return;
    if (px !== this.at) this.dir = Math.sign(px - this.at);
    this.at = px;
    const want = sweepOrder(this.reach, px, this.dir, this.has);
    const next = this.call.order.slice(this.call.sent).filter((p) => !this.has(p));
    if (!followPointer(this.call, want, next, !this.has(px))) return;
    this.call = this.ask(want);
  }

  /** Called after each batch that comes (and when the sweep fails); returns an unsubscribe. */
  onArrival(listener: () => void): () => void {
    this.arrivals.add(listener);
    return () => this.arrivals.delete(listener);
  }

  /** How many frames have come. */
  get size(): number {
    return this.frames.size;
  }

  /** Stops the sweep (the worker stops after its current batch) and drops its frames. */
  cancel(): void {
    this.off();
    this.frames.clear();
    this.arrivals.clear();
    if (!this.cancelled)
      for (const jobId of this.calls.keys()) void getClient().call('jobs.cancel', { jobId });
    this.cancelled = true;
  }
}
