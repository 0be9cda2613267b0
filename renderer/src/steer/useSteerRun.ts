/**
 * Runs the pack on the current input with the current dials, again whenever either changes.
 * One run at a time in the worker: changes made meanwhile are folded into one follow-up run
 * with the newest state, so a fast drag never queues runs (the server also drops stale ones).
 * An image run's follow-up starts when its pixels arrive, not when its step is saved.
 * A text run streams its tokens (text.token events of its job) into `streamed`, at most once
 * per frame, until its reply replaces them; before as far as after has come (a kept before
 * row comes whole, first). An image run's pixels are shown from its
 * image.frame event, before its reply (which waits for the session write).
 * Each run carries the gesture id of the dial state it runs (a drag is one session step), and
 * its reply carries the step it was saved as, handed to `onRun` (no session reload).
 * The frames of an image dial's drag are fetched before it starts (a drag sweep,
 * compare/sweepFrames.ts): for the dial expected to be dragged next, the knob the pointer rests
 * on, or the drag on (dialDrag.ts wantedDialDrag). During a drag or hover, a dial change
 * whose frame has come is drawn from it in the handler of the move, without a run; one whose
 * frame is on its way waits for it (drawn when it comes; the sweep computes the frames from
 * the pointer next) rather than running live; the runs in flight then are older (their pixels
 * are not shown). A frame drawn from the sweep sets no state here (the app would re-render for
 * each): its numbers go to compare/sweptShown.ts, read by the compare view alone, and the
 * last one becomes the output when the drag ends. On release (or when the hover ends), the
 * dials on show are run once the normal way, so the drag's step is recorded with its final
 * value. Any other change (keys, a typed value) runs as it comes.
 */
import { useEffect, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import type { CallOutput, DialInput, ImageShown, Step } from '../../../preload/contract';
import { getClient } from '../api/client';
import { carriedFor } from '../carry/carried';
import { showFrame } from '../compare/liveFrames';
import type { RgbaImage } from '../compare/pixels';
import { SweepFrames, type SweepHit } from '../compare/sweepFrames';
import { showSwept } from '../compare/sweptShown';
import {
  dialDragActive,
  onDialDrag,
  sameDialDrag,
  wantedDialDrag,
  type DialDrag,
} from './dialDrag';
import type { RunInput } from './inputs';
import { gestureId } from './gesture';
import { streamedText } from './streamedText';
import { dialStore } from './store';

export type RunOutput =
  { kind: 'text'; value: CallOutput<'text.generate'> } | { kind: 'image'; value: ImageShown };

export interface RunState {
  output: RunOutput | null;
  error: string | null;
  running: boolean;
  runs: number;
  /** The text the run in flight has streamed so far; null before its first token and after its reply. */
  streamed: { before: string; after: string } | null;
  /** The dials on show wait for their drag sweep frame (nothing newer is drawn meanwhile). */
  waiting: boolean;
}

let jobCount = 0;

async function runOnce(
  packId: string,
  input: RunInput,
  dials: DialInput[],
  sessionId: string | undefined,
  gestureId: string | undefined,
  jobId: string,
) {
  const client = getClient();
  const carried = carriedFor(packId, dials);
  const carry = carried ? { carried } : {};
  if (input.kind === 'text-lm') {
    const r = await client.call('text.generate', {
      packId,
      prompt: input.prompt,
      dials,
      ...carry,
      sampling: {
        maxTokens: input.maxTokens,
        temperature: input.temperature,
        seed: input.seed,
        topK: 0,
        topP: 1,
      },
      sessionId,
      gestureId,
      jobId,
    });
    return r.ok
      ? { ok: true as const, out: { kind: 'text' as const, value: r.value }, step: r.value.step }
      : r;
  }
  const r =
    input.kind === 'image-vae'
      ? await client.call('image.steer', {
          packId,
          source: input.source,
          dials,
          ...carry,
          mask: input.mask ?? null,
          sessionId,
          gestureId,
          jobId,
        })
      : await client.call('glyph.specimen', {
          packId,
          source: input.source,
          text: input.text,
          dials,
          ...carry,
          sessionId,
          gestureId,
          jobId,
        });
  if (!r.ok) return r;
  // with a job id the pixels came in its image.frame event (already on show): the reply has the step
  return 'framed' in r.value
    ? { ok: true as const, out: null, step: r.value.step }
    : { ok: true as const, out: { kind: 'image' as const, value: r.value }, step: r.value.step };
}

export function useSteerRun(
  packId: string | null,
  input: RunInput | null,
  sessionId: string | null = null,
  onRun?: (step: Step | null) => void,
): RunState {
  // `packId`: the pack the output and error came from (another pack's are never shown)
  const [state, setState] = useState<RunState & { packId: string | null }>({
    output: null,
    error: null,
    running: false,
    runs: 0,
    streamed: null,
    waiting: false,
    packId: null,
  });
  const onRunRef = useRef(onRun);
  useEffect(() => {
    onRunRef.current = onRun;
  }, [onRun]);

  useEffect(() => {
    if (!packId || !input) return;
    // Per input: a newer input starts its own loop; the older loop's answers are ignored.
    let live = true;
    // `busy`: the newest run still needs the worker; changes meanwhile set `dirty` and are run
    // as one follow-up with the newest dials. An image run frees the worker when its pixels
    // arrive (image.frame), so the follow-up starts then, while its step is still being saved.
    let busy = false;
    let dirty = false;
    let inFlight = 0;
    let latest = 0;
    /** The newest run whose output is shown (a late reply never shows older pixels). */
    let shownRun = 0;
    const imageRuns = new Map<string, number>();
    /** The before-image on show: a drag sweep's frames are drawn against it. */
    let shownBefore: RgbaImage | null = null;
    // The text run in flight: its job id and the tokens it has streamed, by row and index.
    let jobId = '';
    let pieces: Record<'before' | 'after', string[]> = { before: [], after: [] };
    let frame = 0;
    const flush = (): void => {
      frame = 0;
      if (!live) return;
      const streamed = streamedText(pieces);
      // committed in this animation frame, so the tokens are painted in it (a plain setState
      // would render after the frame and show them one frame later)
      flushSync(() => setState((s) => ({ ...s, streamed })));
    };
    const offTokens =
      input.kind === 'text-lm'
        ? getClient().on('text.token', (t) => {
            if (t.jobId !== jobId) return;
            pieces[t.row][t.index] = t.text;
            frame ||= requestAnimationFrame(flush);
          })
        : // an image run's pixels, shown as soon as the worker has them (the reply, after the
          // session write, then brings the same pixels with the saved step)
          getClient().on('image.frame', ({ jobId: of, ...image }) => {
            const run = imageRuns.get(of);
            if (run === undefined || !live) return;
            if (run === latest) busy = false;
            if (run > shownRun) {
              shownRun = run;
              shownBefore = { rgba: image.before, width: image.width, height: image.height };
              // into the canvases now, from the socket's message; React catches up after
              showFrame(image);
              setState((s) => ({
                ...s,
                output: { kind: 'image', value: { ...image, step: null } },
                error: null,
                packId,
              }));
            }
            if (dirty && !busy) kick();
            // the first before on show (or a sweep dropped as stale): the wanted frames now
            else if (!sweep) sweepFor(wantedDialDrag());
          });
    const stopStream = (): void => {
      jobId = '';
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
    };
    const kick = (): void => {
      if (busy) {
        dirty = true;
        return;
      }
      busy = true;
      dirty = false;
      const run = ++latest;
      inFlight += 1;
      setState((s) => ({ ...s, running: true }));
      const job = `${input.kind === 'text-lm' ? 'text' : 'image'}-${Date.now().toString(36)}-${++jobCount}`;
      jobId = job;
      if (input.kind !== 'text-lm') imageRuns.set(job, run);
      pieces = { before: [], after: [] };
      void runOnce(
        packId,
        input,
        dialStore.forApi(),
        sessionId ?? undefined,
        gestureId() ?? undefined,
        job,
      ).then((r) => {
        inFlight -= 1;
        imageRuns.delete(job);
        if (run === latest) busy = false;
        if (!live) return;
        if (run === latest) stopStream();
        const running = inFlight > 0;
        if (r.ok) {
          // its pixels (or a newer run's) are on screen already: no second render of them
          const keep = shownRun >= run || r.out === null;
          shownRun = Math.max(shownRun, run);
          const out = r.out;
          if (out?.kind === 'image' && !keep)
            shownBefore = {
              rgba: out.value.before,
              width: out.value.width,
              height: out.value.height,
            };
          setState((s) => ({
            ...s,
            output: (keep && s.output) || out === null ? s.output : out,
            error: null,
            running,
            runs: s.runs + 1,
            streamed: null,
            packId,
          }));
          onRunRef.current?.(r.step);
        } else if (r.error.code !== 'cancelled')
          setState((s) => ({
            ...s,
            error: r.error.message,
            running,
            streamed: null,
            packId,
          }));
        else setState((s) => ({ ...s, running, streamed: null }));
        if (dirty && !busy) kick();
      });
    };
    // A drag on an image dial: the frames of every value it reaches, fetched once.
    const imageInput = input.kind === 'image-vae' ? input : null;
    let sweep: SweepFrames | null = null;
    /** The dials on show were drawn from the sweep, not run: release runs them (the step). */
    let sweptPending = false;
    const dropSweep = (): void => {
      sweep?.cancel();
      sweep = null;
    };
    /** What the sweep on hand was started for: a drag from the same value keeps it. */
    let sweptFor: DialDrag | null = null;
    /** The dials on show wait for the sweep's frame (drawn when it comes, see `show`). */
    let waiting = false;
    /** The sweep's frame on show (not yet the output in state: the drag's end makes it so). */
    let sweptShownHit: SweepHit | null = null;
    const setWaiting = (to: boolean): void => {
      if (waiting !== to) setState((s) => ({ ...s, waiting: to }));
      waiting = to;
    };
    /** The sweep's frame on show becomes the output (once a drag, when it ends). */
    const keepSwept = (): void => {
      const hit = sweptShownHit;
      sweptShownHit = null;
      if (!hit) return;
      const { frame, metrics, changed } = hit;
      setState((s) => ({
        ...s,
        output: { kind: 'image', value: { ...frame, metrics, changed, ms: 0, step: null } },
        error: null,
        packId,
      }));
    };
    /** The sweep on hand gives way to one for this drag (none for null, or while no "before"
     * is on show yet: the frames are drawn against it). */
    const sweepFor = (drag: DialDrag | null): void => {
      dropSweep();
      sweptFor = drag;
      if (!drag || !shownBefore || !imageInput) return;
      const started = SweepFrames.start(
        packId,
        imageInput,
        drag,
        dialStore.sweptOf(drag.key),
        shownBefore,
      );
      // a frame that comes for the dials on show is drawn then
      started?.onArrival(() => {
        if (waiting && sweep === started) show();
      });
      sweep = started;
    };
    const offDrag = imageInput
      ? onDialDrag((drag) => {
          if (!sweep || !sameDialDrag(sweptFor, drag)) sweepFor(drag);
          // the drag (or the hover that turned the dial by wheel) ended on a frame of the sweep
          if (!dialDragActive() && sweptPending) {
            sweptPending = false;
            setWaiting(false);
            keepSwept();
            kick();
          }
        })
      : () => undefined;
    /**
     * Shows the dials on show: from the sweep's frame when it has come (drawn now, in the
     * handler of the move or of the frame's arrival), waiting for it when it is on its way (no
     * live run: the sweep computes it next, from the pointer), else by a live run.
     */
    const show = (): void => {
      const found = sweep?.lookup(dialStore.forApi());
      if (dialDragActive() && (found?.kind === 'hit' || found?.kind === 'pending')) {
        // every run in flight is for older dials: none of their pixels is shown now
        shownRun = latest;
        sweptPending = true;
        if (found.kind === 'hit') {
          sweptShownHit = found.hit;
          // into the canvases now; the numbers follow in the compare view alone, in this task
          showFrame(found.hit.frame);
          showSwept(found.hit.metrics);
        }
        // then the sweep's next frames are the ones ahead of the pointer (a move that waits:
        // asked for before anything is rendered)
        sweep?.follow(found.px);
        // a move that waits draws nothing now: the flag is rendered at once (a test polls it)
        if (found.kind === 'pending' && !waiting) flushSync(() => setWaiting(true));
        else setWaiting(found.kind === 'pending');
        return;
      }
      setWaiting(false);
      // a live run replaces what the sweep showed; until its pixels come that stays the output
      keepSwept();
      sweptPending = false;
      kick();
      // the other dials changed: the wanted drag's frames are fetched again, with them
      if (found?.kind === 'stale') sweepFor(wantedDialDrag());
    };

    kick();
    const off = dialStore.subscribe(show);
    return () => {
      live = false;
      setWaiting(false);
      stopStream();
      offTokens();
      off();
      offDrag();
      dropSweep();
    };
  }, [packId, input, sessionId]);

  // a pack switch clears the last pack's before and after at once, not when the next run ends
  return state.packId === packId ? state : { ...state, output: null, error: null };
}
