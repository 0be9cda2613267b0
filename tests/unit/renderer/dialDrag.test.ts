/**
 * What the image loop hears of dial drags and hovers (renderer/src/steer/dialDrag.ts): a hover
 * on a knob is told once, a drag from the same value and step is recognised as the same sweep,
 * nothing is told about hovers during a drag, and the drag's end is told once. The dial expected
 * to be dragged next is told when no drag or hover is on, and is what a drag's end or a hover
 * that leaves falls back to (its frames are fetched before the hover). A drag's value comes from
 * its press alone (whole pixels at the press's step). And the order a
 * drag sweep computes its frames in once the pointer moves (sweepOrder), and when a sweep's
 * call gives way to one from the pointer (followPointer).
 */
import { describe, expect, it } from 'vitest';
import {
  beginDialDrag,
  dialDragActive,
  endDialDrag,
  expectDialDrag,
  expectedDialDrag,
  FINE_DRAG,
  followPointer,
  hoverDial,
  onDialDrag,
  pressValue,
  sameDialDrag,
  SWEEP_AHEAD,
  sweepOffsets,
  sweepOrder,
  wantedDialDrag,
  type DialDrag,
} from '../../../renderer/src/steer/dialDrag';

const a: DialDrag = { key: 'sae:3', method: 'add', start: 0, step: 0.05 };

describe('dial drags and hovers', () => {
  it('tells a hover once, then the drag, then its end; hovers during a drag are not told', () => {
    const heard: (DialDrag | null)[] = [];
    const off = onDialDrag((d) => heard.push(d));
    hoverDial(a);
    hoverDial({ ...a }); // the same knob again: already told
    beginDialDrag({ ...a });
    hoverDial({ ...a, start: 1 }); // during the drag: not told
    endDialDrag();
    endDialDrag(); // already ended
    hoverDial(null); // left after release: no hover was on, nothing to tell
    off();
    expect(heard).toEqual([a, a, null]);
    expect(sameDialDrag(heard[0] ?? null, heard[1] ?? null)).toBe(true);
  });

  it('a hover that leaves is told as null; another value or step is another sweep', () => {
    const heard: (DialDrag | null)[] = [];
    const off = onDialDrag((d) => heard.push(d));
    hoverDial(a);
    hoverDial(null);
    hoverDial({ ...a, step: 0.01 });
    hoverDial(null);
    off();
    expect(heard).toEqual([a, null, { ...a, step: 0.01 }, null]);
    expect(sameDialDrag(a, { ...a, start: 0.5 })).toBe(false);
    expect(sameDialDrag(a, { ...a, key: 'sae:4' })).toBe(false);
    // the same value and step under another method: other dial lists, other frames
    expect(sameDialDrag(a, { ...a, method: 'pin' })).toBe(false);
    expect(sameDialDrag(a, null)).toBe(false);
  });
});

describe('the dial expected to be dragged next', () => {
  const b: DialDrag = { key: 'sae:4', method: 'add', start: 0, step: 0.02 };

  it('is told while nothing is on, and waits during a hover or drag', () => {
    const heard: (DialDrag | null)[] = [];
    const off = onDialDrag((d) => heard.push(d));
    expectDialDrag(b); // a dial added: its frames are wanted now
    expectDialDrag({ ...b }); // the same again: already told
    expect(wantedDialDrag()).toEqual(b);
    expect(dialDragActive()).toBe(false);
    hoverDial(a); // another knob: its frames instead
    expect(dialDragActive()).toBe(true);
    expectDialDrag({ ...b, start: 1 }); // b turned meanwhile: not told during the hover
    hoverDial(null); // left: back to b, from where it is now
    expect(dialDragActive()).toBe(false);
    off();
    expect(heard).toEqual([b, a, { ...b, start: 1 }]);
    expectDialDrag(null);
  });

  it('a drag ends on the drag expected next: the same dial from where the drag left it', () => {
    const heard: (DialDrag | null)[] = [];
    const off = onDialDrag((d) => heard.push(d));
    expectDialDrag(a);
    beginDialDrag({ ...a }); // a drag from where it was expected: the same sweep
    expectDialDrag({ ...a, start: 0.5 }); // turned by the drag: told when it ends
    expect(wantedDialDrag()).toEqual(a);
    endDialDrag();
    expect(expectedDialDrag()).toEqual({ ...a, start: 0.5 });
    expectDialDrag(null); // removed: nothing is wanted
    off();
    expect(heard).toEqual([a, a, { ...a, start: 0.5 }, null]);
    expect(sameDialDrag(heard[0] ?? null, heard[1] ?? null)).toBe(true);
    expect(wantedDialDrag()).toBeNull();
  });
});

describe('the value under the pointer', () => {
  it('is the press value plus whole pixels up and right at the press step, a tenth fine', () => {
    const press = { key: 'sae:3', method: 'add' as const, start: 1, step: 0.05, x: 100, y: 200 };
    expect(pressValue(press, 100, 200, false)).toBe(1);
    // 12.4 px right and 3.2 px up: 15.6, 16 whole pixels
    expect(pressValue(press, 112.4, 196.8, false)).toBe(1 + 16 * 0.05);
    expect(pressValue(press, 90, 200, false)).toBe(1 - 10 * 0.05);
    expect(pressValue(press, 110, 200, true)).toBe(1 + 10 * 0.05 * FINE_DRAG);
    // every plain value is on the grid a sweep for this press computes (dragValue)
    for (const x of [101, 137, 300]) {
      const v = pressValue(press, x, 200, false);
      expect(v).toBe(1 + (x - 100) * 0.05);
    }
  });
});

describe('drag sweep order', () => {
  it('without a direction: nearest first, one each way', () => {
    expect(sweepOrder(3, 0, 0)).toEqual([0, 1, -1, 2, -2, 3, -3]);
    expect(sweepOffsets(2)).toEqual([0, 1, -1, 2, -2]);
  });

  it('a moving pointer: where it is, then three ahead for each one behind, frames had left out', () => {
    expect(SWEEP_AHEAD).toBe(3);
    const had = new Set([1, 2]);
    expect(sweepOrder(5, 1, 1, (px) => had.has(px))).toEqual([3, 4, 0, 5, -1, -2, -3, -4, -5]);
    expect(sweepOrder(5, -2, -1)).toEqual([-2, -3, -4, -5, -1, 0, 1, 2, 3, 4, 5]);
  });

  it('a pointer past the reach starts from its end', () => {
    expect(sweepOrder(2, 5, 1)).toEqual([2, 1, 0, -1, -2]);
    expect(sweepOrder(2, -9, 1)).toEqual([-2, -1, 0, 1, 2]);
  });

  it('asks for every missing offset exactly once, wherever the pointer is', () => {
    const reach = 40;
    const had = (px: number): boolean => px % 7 === 0;
    const missing = Array.from({ length: 2 * reach + 1 }, (_, k) => k - reach).filter(
      (px) => !had(px),
    );
    for (const at of [-45, -40, -13, 0, 1, 22, 40, 60])
      for (const dir of [-1, 0, 1]) {
        const order = sweepOrder(reach, at, dir, had);
        expect([...order].sort((a, b) => a - b)).toEqual(missing);
      }
  });

  it('a call gives way when the frames ahead of the pointer are not among its next ones', () => {
    // a both-ways call (…, 11, −11, 12, −12, …) and a pointer at 10 moving up
    const bothWays = sweepOrder(40, 0, 0).filter((px) => Math.abs(px) > 10);
    const want = sweepOrder(40, 10, 1, (px) => Math.abs(px) <= 10);
    expect(want.slice(0, 3)).toEqual([11, 12, 13]);
    // 11, 12 and 13 are among its next eight (11, −11, 12, −12, 13, …): kept
    expect(followPointer({ sent: 3 }, want, bothWays)).toBe(false);
    // the pointer ran on to 30: 31, 32, 33 are far down the both-ways call's list
    const ahead = sweepOrder(40, 30, 1, (px) => Math.abs(px) <= 10);
    expect(followPointer({ sent: 3 }, ahead, bothWays)).toBe(true);
    // a call that has sent nothing yet is left to send its first batch; nothing wanted, kept
    expect(followPointer({ sent: 0 }, ahead, bothWays)).toBe(false);
    expect(followPointer({ sent: 3 }, [], bothWays)).toBe(false);
    // a call that has sent everything it had gives way to one for what is still missing
    expect(followPointer({ sent: 81 }, [5], [])).toBe(true);
    // a move that waits for its own frame (12, say): kept only if that frame is about the
    // next one the call sends
    const waitAt12 = sweepOrder(40, 12, 1, (px) => Math.abs(px) <= 10);
    expect(waitAt12[0]).toBe(12);
    expect(followPointer({ sent: 3 }, waitAt12, bothWays, true)).toBe(true);
    expect(followPointer({ sent: 3 }, waitAt12, [-11, 12, -12, 13], true)).toBe(false);
    // also before the call has sent anything (a first move right after the hover's call):
    // the pointer's frame is asked for first rather than after the frames nearer the start
    expect(followPointer({ sent: 0 }, waitAt12, bothWays, true)).toBe(true);
    expect(followPointer({ sent: 0 }, waitAt12, [12, 13, 14], true)).toBe(false);
  });
});
