/**
 * Runs the pack on the current input with the current dials, again whenever either changes.
 * One request in flight at a time: changes made meanwhile are folded into one follow-up run
 * with the newest state, so a fast drag never queues runs (the server also drops stale ones).
 * A text run streams its tokens (text.token events of its job) into `streamed`, at most once
 * per frame, until its reply replaces them. An image run's pixels are shown from its
 * image.frame event, before its reply (which waits for the session write).
 * Each run carries the gesture id of the dial state it runs (a drag is one session step), and
 * its reply carries the step it was saved as, handed to `onRun` (no session reload).
 */
import { useEffect, useRef, useState } from 'react';
import type { CallOutput, DialInput, Step } from '../../../preload/contract';
import { getClient } from '../api/client';
import { showFrame } from '../compare/liveFrames';
import type { RunInput } from './inputs';
import { gestureId } from './gesture';
import { dialStore } from './store';

export type RunOutput =
  | { kind: 'text'; value: CallOutput<'text.generate'> }
  | { kind: 'image'; value: CallOutput<'image.steer'> };

export interface RunState {
  output: RunOutput | null;
  error: string | null;
  running: boolean;
  runs: number;
  /** The text the run in flight has streamed so far; null before its first token and after its reply. */
  streamed: { before: string; after: string } | null;
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
  if (input.kind === 'text-lm') {
    const r = await client.call('text.generate', {
      packId,
      prompt: input.prompt,
      dials,
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
    return r.ok ? { ok: true as const, out: { kind: 'text' as const, value: r.value } } : r;
  }
  const r =
    input.kind === 'image-vae'
      ? await client.call('image.steer', {
          packId,
          source: input.source,
          dials,
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
          sessionId,
          gestureId,
          jobId,
        });
  return r.ok ? { ok: true as const, out: { kind: 'image' as const, value: r.value } } : r;
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
    let busy = false;
    let dirty = false;
    // The text run in flight: its job id and the tokens it has streamed, by row and index.
    let jobId = '';
    // The image run whose pixels came early (its image.frame event): its reply keeps them.
    let shown = '';
    let pieces: Record<'before' | 'after', string[]> = { before: [], after: [] };
    let frame = 0;
    const flush = (): void => {
      frame = 0;
      if (!live) return;
      const streamed = { before: pieces.before.join(''), after: pieces.after.join('') };
      setState((s) => ({ ...s, streamed }));
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
            if (of !== jobId || !live) return;
            shown = of;
            // into the canvases now, from the socket's message; React catches up after
            showFrame(image);
            setState((s) => ({
              ...s,
              output: { kind: 'image', value: { ...image, step: null } },
              error: null,
              packId,
            }));
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
      setState((s) => ({ ...s, running: true }));
      jobId = `${input.kind === 'text-lm' ? 'text' : 'image'}-${Date.now().toString(36)}-${++jobCount}`;
      pieces = { before: [], after: [] };
      void runOnce(
        packId,
        input,
        dialStore.forApi(),
        sessionId ?? undefined,
        gestureId() ?? undefined,
        jobId,
      ).then((r) => {
        busy = false;
        if (!live) return;
        const early = shown !== '' && shown === jobId;
        stopStream();
        if (r.ok) {
          setState((s) => ({
            // the same pixels are on screen already: no second render of the canvases
            output: early && s.output ? s.output : r.out,
            error: null,
            running: false,
            runs: s.runs + 1,
            streamed: null,
            packId,
          }));
          onRunRef.current?.(r.out.value.step);
        } else if (r.error.code !== 'cancelled')
          setState((s) => ({
            ...s,
            error: r.error.message,
            running: false,
            streamed: null,
            packId,
          }));
        else setState((s) => ({ ...s, running: false, streamed: null }));
        if (dirty) kick();
      });
    };
    kick();
    const off = dialStore.subscribe(kick);
    return () => {
      live = false;
      stopStream();
      offTokens();
      off();
    };
  }, [packId, input, sessionId]);

  // a pack switch clears the last pack's before and after at once, not when the next run ends
  return state.packId === packId ? state : { ...state, output: null, error: null };
}
