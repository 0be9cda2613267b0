/**
 * A drag sweep in the page (issue 14; contract sweep.ts): when a drag starts on an image dial,
 * one image.sweep call asks the inference worker for the frames of every value the drag can
 * reach in whole pixels of travel, nearest to the start first, within SWEEP_BYTES. The frames
 * arrive in batches (image.sweep events of raw RGBA) and are kept as views of the received
 * bytes, by the dial list they were made for; a dial change whose list has a frame is drawn
 * from it at once, anything else takes the live path. A change of the other dials makes the
 * sweep stale; the owner cancels it then, when the drag ends, or when the input or pack changes.
 */
import {
  SWEEP_BYTES,
  SWEEP_VALUES_MAX,
  sweepDials,
  sweepFrameBytes,
  type DialInput,
  type ImageMetrics,
  type SweptDial,
} from '../../../preload/contract';
import { getClient } from '../api/client';
import { dragValue, sweepOffsets, type DialDrag } from '../steer/dialDrag';
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

export type SweepLookup = { kind: 'hit'; hit: SweepHit } | { kind: 'miss' } | { kind: 'stale' };

type ImageInput = Extract<RunInput, { kind: 'image-vae' }>;

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
  private readonly keys: string[];
  private readonly others: string;
  private readonly off: () => void;
  /** The call has answered (all frames sent, or it failed: the live path serves the rest). */
  private finished = false;
  private cancelled = false;
  readonly jobId = `sweep-${Date.now().toString(36)}-${++count}`;

  private constructor(
    packId: string,
    input: ImageInput,
    private readonly swept: SweptDial,
    values: number[],
    /** "before", the same for every frame (its canvas is left as it is). */
    private readonly before: RgbaImage,
  ) {
    this.keys = values.map((v) => keyOf(sweepDials(swept, v)));
    this.others = keyOf(swept.others);
    const bytes = before.width * before.height * 4;
    const client = getClient();
    this.off = client.on('image.sweep', (e) => {
      if (e.jobId !== this.jobId || this.cancelled) return;
      if (e.width !== before.width || e.height !== before.height) return;
      e.index.forEach((i, k) => {
        const key = this.keys[i];
        const metrics = e.metrics[k];
        if (key === undefined || metrics === undefined) return;
        // views of the received bytes: nothing is copied or decoded until one is drawn
        this.frames.set(key, {
          frame: {
            before: before.rgba,
            after: e.after.subarray(k * bytes, (k + 1) * bytes),
            heatmap: e.heatmap.subarray(k * bytes, (k + 1) * bytes),
            width: e.width,
            height: e.height,
          },
          metrics,
          changed: e.changed[k] ?? true,
        });
      });
    });
    void client
      .call('image.sweep', {
        packId,
        source: input.source,
        mask: input.mask ?? null,
        swept,
        values,
        jobId: this.jobId,
      })
      .then(() => {
        this.finished = true;
      });
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
    const values = sweepOffsets(reach).map((px) => dragValue(drag, px));
    return new SweepFrames(packId, input, swept, values, before);
  }

  /** The frame for these dials, if it has come; 'stale' when the other dials changed. */
  lookup(dials: readonly DialInput[]): SweepLookup {
    const hit = this.frames.get(keyOf(dials));
    if (hit) return { kind: 'hit', hit };
    return othersKey(dials, this.swept.dial) === this.others ? { kind: 'miss' } : { kind: 'stale' };
  }

  /** How many frames have come. */
  get size(): number {
    return this.frames.size;
  }

  /** Stops the sweep (the worker stops after its current batch) and drops its frames. */
  cancel(): void {
    this.off();
    this.frames.clear();
    if (!this.finished && !this.cancelled)
      void getClient().call('jobs.cancel', { jobId: this.jobId });
    this.cancelled = true;
  }
}
