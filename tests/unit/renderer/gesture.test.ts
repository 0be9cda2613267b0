import { describe, expect, it } from 'vitest';
import { afterGesture, beginGesture, endGesture } from '../../../renderer/src/steer/gesture';

describe('afterGesture', () => {
  it('runs at once without a gesture, and once when the active gesture ends', () => {
    const calls: string[] = [];
    afterGesture(() => calls.push('idle'));
    expect(calls).toEqual(['idle']);

    beginGesture();
    afterGesture(() => calls.push('first'));
    const cancel = afterGesture(() => calls.push('cancelled'));
    afterGesture(() => calls.push('second'));
    cancel();
    expect(calls).toEqual(['idle']);
    endGesture();
    expect(calls).toEqual(['idle', 'first', 'second']);
    endGesture(); // nothing waits any more
    expect(calls).toEqual(['idle', 'first', 'second']);
  });
});
