/**
 * One dial: drag up/right to turn (Shift for fine steps), mouse wheel, type a value,
 * double-click to reset; method switch, mute and remove. The value is shown against the
 * feature's max activation when the index knows it. A drag moves the value in whole pixels of
 * travel from where it started (dialDrag.ts), so an image pack can fetch every value the drag
 * reaches at once (a drag sweep) and draw each move from it; the value of a pixel is fixed by the
 * press (pressValue). A dial added or turned is the one expected to be dragged next
 * (expectDialDrag): its frames are fetched before the pointer reaches its knob.
 *
 * Calibrated travel: when the index measured the feature's useful range (calibration.ts), a
 * 200 px drag covers it (rest to the calibrated limit), ticks mark 1×, 2× its typical
 * activation and the limit, and the needle's angle grows with the value everywhere (linear up
 * to the limit, then slower, never standing still). Switching method keeps the effect as close
 * as it can (add v ≈ pin v ≈ scale 1 + v / typical).
 */
import {
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type PointerEvent,
  type WheelEvent,
} from 'react';
import { runAction } from '../actions/registry';
import { rangeOf, rangesVersion, subscribeRanges, type DialRange } from './calibration';
import {
  beginDialDrag,
  clampDialValue,
  endDialDrag,
  expectDialDrag,
  expectedDialDrag,
  FINE_DRAG,
  hoverDial,
  pressValue,
  type DialDrag,
  type DialPress,
} from './dialDrag';
import { beginGesture, endGesture, gestureActive } from './gesture';
import { dialStore, restValue, type DialState } from './store';

const SWEEP = 270; // degrees of the knob's arc up to the calibrated limit, both ways
const OVER = 40; // degrees more, approached but never reached, past the limit
/** Pixels of drag from rest to the limit. */
export const TRAVEL_PX = 200;

/** The typical activation: the calibrated one, else half the max activation. */
function typicalOf(d: DialState, r: DialRange | null): number {
  if (r) return r.typical;
  return d.maxActivation && d.maxActivation > 0 ? d.maxActivation / 2 : 1;
}

/** How far from rest the dial's full travel reaches, in the method's own units. */
export function scaleOf(d: DialState, r: DialRange | null = rangeOf(d.saeId, d.feature)): number {
  if (d.method === 'scale') return r ? r.limit / r.typical : 4;
  if (r) return r.limit;
  return d.maxActivation && d.maxActivation > 0 ? d.maxActivation * 4 : 10;
}

function stepOf(d: DialState, fine: boolean): number {
  return (scaleOf(d) / TRAVEL_PX) * (fine ? FINE_DRAG : 1);
}

/** A plain drag of this dial from where it is now. */
const dragOf = (d: DialState): DialDrag => ({
  key: d.key,
  method: d.method,
  start: d.value,
  step: stepOf(d, false),
});

/** The needle's angle for a value: monotonic, linear to the limit, then easing toward OVER. */
export function needleAngle(value: number, rest: number, range: number): number {
  const t = (value - rest) / range;
  const a = Math.abs(t);
  const deg = a <= 1 ? (a * SWEEP) / 2 : SWEEP / 2 + OVER * (1 - 1 / a);
  return Math.sign(t) * deg;
}

/** The value that keeps the effect when a dial switches method (see the header). */
export function switchValue(
  from: DialState['method'],
  to: DialState['method'],
  value: number,
  typical: number,
): number {
  if (from === to) return value;
  // as an added amount of activation
  const added = from === 'scale' ? (value - 1) * typical : value;
  return to === 'scale' ? 1 + added / typical : added;
}

function relative(d: DialState): string {
  if (d.method === 'scale') return `×${d.value.toFixed(2)}`;
  if (!d.maxActivation) return '';
  // a composite dial's scale is twice its members' typical strength (selectionActions.ts)
  if (d.members) return `${((2 * d.value) / d.maxActivation).toFixed(2)} × typical`;
  return `${(d.value / d.maxActivation).toFixed(2)} × max`;
}

export function Dial({ dial }: { dial: DialState }) {
  const drag = useRef<DialPress | null>(null);
  const [typed, setTyped] = useState<string | null>(null);
  // re-render when this (or any) feature's calibrated range arrives from the index
  useSyncExternalStore(subscribeRanges, rangesVersion);
  // a composite dial's travel comes from its members' typical activation, not one feature's
  const calibrated = dial.members ? null : rangeOf(dial.saeId, dial.feature);
  const range = scaleOf(dial, calibrated);
  const rest = restValue(dial.method);
  const angle = needleAngle(dial.value, rest, range);
  const typical = typicalOf(dial, calibrated);
  const step = stepOf(dial, false);
  // ticks at 1×, 2× the typical activation and at the calibrated limit (in this method's units)
  const unit = dial.method === 'scale' ? 1 : typical;
  const ticks = calibrated
    ? [
        { at: rest + unit, label: '1×' },
        { at: rest + 2 * unit, label: '2×' },
        { at: rest + range, label: 'limit' },
      ]
    : [];

  const ref = { saeId: dial.saeId, feature: dial.feature, key: dial.key };
  // handlers read the dial as the store has it now: several changes may come in one task
  // (a wheel tick, a key, a press) before this view has re-rendered
  const now = (): DialState => dialStore.get().find((d) => d.key === dial.key) ?? dial;
  const name = dial.members ? `composite dial ${dial.label}` : `feature ${dial.feature}`;
  const set = (value: number): void => {
    if (!Number.isFinite(value)) return;
    void runAction('turn-dial', { ...ref, value: clampDialValue(value) });
  };

  // added, turned or switched to another method (by any means): the dial expected to be
  // dragged next, from its new value
  useEffect(() => {
    expectDialDrag(dragOf(now()));
    // eslint-disable-next-line react-hooks/exhaustive-deps -- told on a change of these alone
  }, [dial.key, dial.value, dial.method]);
  // its calibrated range came: a next drag of it moves by another step
  useEffect(() => {
    if (expectedDialDrag()?.key === dial.key) expectDialDrag(dragOf(now()));
    // eslint-disable-next-line react-hooks/exhaustive-deps -- told on a change of the step alone
  }, [step]);
  // removed: nothing is expected of it any more
  useEffect(
    () => () => {
      if (expectedDialDrag()?.key === dial.key) expectDialDrag(null);
    },
    [dial.key],
  );

  const onPointerDown = (e: PointerEvent<HTMLDivElement>): void => {
    e.currentTarget.setPointerCapture(e.pointerId);
    const d = dragOf(now());
    drag.current = { ...d, x: e.clientX, y: e.clientY };
    // the whole drag is one session step: its runs carry one gesture id
    beginGesture();
    // the image loop may fetch the frames of every value this drag reaches (dialDrag.ts)
    beginDialDrag(d);
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>): void => {
    if (!drag.current) {
      // resting on the knob: the frames a drag from here reaches are fetched before the press
      if (e.pointerType === 'mouse' && e.buttons === 0) hoverDial(dragOf(now()));
      return;
    }
    // whole pixels of travel from the start: the values a drag sweep has frames for
    set(pressValue(drag.current, e.clientX, e.clientY, e.shiftKey));
  };
  const onPointerUp = (): void => {
    drag.current = null;
    endGesture();
    // the next drag of this dial starts where this one ended: its frames are fetched now
    expectDialDrag(dragOf(now()));
    endDialDrag();
  };
  const onWheel = (e: WheelEvent<HTMLDivElement>): void => {
    // wheel turns while the pointer stays on the knob are one step too
    if (!gestureActive()) beginGesture();
    const d = now();
    set(d.value - Math.sign(e.deltaY) * stepOf(d, e.shiftKey) * 5);
  };

  return (
    <div
      className={`dial ${dial.muted ? 'muted-dial' : ''}`}
      data-testid={dial.members ? 'composite-dial' : `dial-${dial.feature}`}
      data-key={dial.key}
    >
      <div
        className="knob"
        role="slider"
        tabIndex={0}
        aria-label={dial.members ? `Dial for ${name}` : `Dial for ${name}: ${dial.label}`}
        aria-valuenow={dial.value}
        aria-valuemin={rest - range}
        aria-valuemax={rest + range}
        data-limit={calibrated ? rest + range : undefined}
        data-angle={angle.toFixed(2)}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onPointerLeave={() => {
          if (drag.current) return;
          endGesture();
          hoverDial(null);
        }}
        onWheel={onWheel}
        onDoubleClick={() => set(rest)}
        onKeyDown={(e) => {
          const d = now();
          if (e.key === 'ArrowUp' || e.key === 'ArrowRight')
            set(d.value + stepOf(d, e.shiftKey) * 5);
          if (e.key === 'ArrowDown' || e.key === 'ArrowLeft')
            set(d.value - stepOf(d, e.shiftKey) * 5);
          if (e.key === 'Home' || e.key === '0') set(rest);
        }}
      >
        <svg viewBox="0 0 40 40" width="44" height="44" aria-hidden="true">
          <circle cx="20" cy="20" r="15" className="knob-body" />
          {ticks.map((tk) => (
            <line
              key={tk.label}
              x1="20"
              y1="3"
              x2="20"
              y2="6"
              className={`knob-tick ${tk.label === 'limit' ? 'knob-limit' : ''}`}
              stroke="currentColor"
              strokeWidth={tk.label === 'limit' ? 2 : 1}
              data-tick={tk.label}
              transform={`rotate(${needleAngle(tk.at, rest, range)} 20 20)`}
            />
          ))}
          <line
            x1="20"
            y1="20"
            x2="20"
            y2="7"
            className="knob-needle"
            transform={`rotate(${angle} 20 20)`}
          />
        </svg>
      </div>
      <div className="dial-body">
        <div className="dial-title" title={dial.label}>
          <span className="mono">
            {dial.members ? `${dial.members.length}×` : `#${dial.feature}`}
          </span>{' '}
          {dial.label}
        </div>
        <div className="dial-controls">
          <input
            className="dial-value"
            aria-label={`Value of ${name}`}
            value={typed ?? dial.value.toFixed(2)}
            onChange={(e) => setTyped(e.target.value)}
            onBlur={() => {
              if (typed !== null) set(Number(typed));
              setTyped(null);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') e.currentTarget.blur();
              if (e.key === 'Escape') setTyped(null);
            }}
          />
          <span className="muted dial-rel">{relative(dial)}</span>
          <select
            aria-label={`Method of ${name}`}
            disabled={dial.members !== null}
            value={dial.method}
            onChange={(e) => {
              const method = e.target.value as DialState['method'];
              void runAction('turn-dial', {
                ...ref,
                method,
                value: switchValue(dial.method, method, dial.value, typical),
              });
            }}
          >
            <option value="add">add</option>
            <option value="pin">pin</option>
            <option value="scale">scale</option>
          </select>
          <button
            type="button"
            aria-pressed={dial.muted}
            onClick={() => void runAction('turn-dial', { ...ref, muted: !dial.muted })}
          >
            {dial.muted ? 'Unmute' : 'Mute'}
          </button>
          <button
            type="button"
            aria-label={dial.members ? `Remove ${name}` : `Remove dial ${dial.feature}`}
            onClick={() => void runAction('remove-dial', ref)}
          >
            ×
          </button>
        </div>
      </div>
    </div>
  );
}
