/** The keyboard's next star: the nearest on screen in the arrow's direction, never behind it. */
import { describe, expect, it } from 'vitest';
import { nearestInDirection } from '../../../renderer/src/galaxy/project';

//            0: middle  1: right  2: far right  3: up-right (steep)  4: left  5: off screen
const xs = [100, 140, 300, 110, 40, NaN];
const ys = [100, 104, 100, 20, 100, NaN];

describe('nearestInDirection', () => {
  it('takes the nearest star that way, counting sideways distance double', () => {
    expect(nearestInDirection(xs, ys, 0, 100, 100, 'right')).toBe(1);
    expect(nearestInDirection(xs, ys, 0, 100, 100, 'left')).toBe(4);
    expect(nearestInDirection(xs, ys, 0, 100, 100, 'up')).toBe(3);
    expect(nearestInDirection(xs, ys, 1, 140, 104, 'right')).toBe(2);
  });

  it('finds nothing past the last star, and skips stars off screen', () => {
    expect(nearestInDirection(xs, ys, 2, 300, 100, 'right')).toBeNull();
    expect(nearestInDirection(xs, ys, 0, 100, 100, 'down')).toBeNull();
  });
});
