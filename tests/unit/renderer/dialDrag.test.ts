/**
 * What the image loop hears of dial drags and hovers (renderer/src/steer/dialDrag.ts): a hover
 * on a knob is told once, a drag from the same value and step is recognised as the same sweep,
 * nothing is told about hovers during a drag, and the drag's end is told once.
 */
import { describe, expect, it } from 'vitest';
import {
  beginDialDrag,
  endDialDrag,
  hoverDial,
  onDialDrag,
  sameDialDrag,
  type DialDrag,
} from '../../../renderer/src/steer/dialDrag';

const a: DialDrag = { key: 'sae:3', start: 0, step: 0.05 };

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
    expect(sameDialDrag(a, null)).toBe(false);
  });
});
