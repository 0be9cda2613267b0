/**
 * One dial: drag up/right to turn (Shift for fine steps), mouse wheel, type a value,
 * double-click to reset; method switch, mute and remove. The value is shown against the
 * feature's max activation when the index knows it.
 */
import { useRef, useState, type PointerEvent, type WheelEvent } from 'react';
import { runAction } from '../actions/registry';
import { dialStore, restValue, type DialState } from './store';

const SWEEP = 270; // degrees of the knob's arc

function scaleOf(d: DialState): number {
  if (d.method === 'scale') return 4;
  return d.maxActivation && d.maxActivation > 0 ? d.maxActivation * 4 : 10;
}

function stepOf(d: DialState, fine: boolean): number {
  return (scaleOf(d) / 200) * (fine ? 0.1 : 1);
}

function relative(d: DialState): string {
  if (d.method === 'scale') return `×${d.value.toFixed(2)}`;
  if (!d.maxActivation) return '';
  return `${(d.value / d.maxActivation).toFixed(2)} × max`;
}

export function Dial({ dial }: { dial: DialState }) {
  const drag = useRef<{ x: number; y: number; value: number } | null>(null);
  const [typed, setTyped] = useState<string | null>(null);
  const range = scaleOf(dial);
  const rest = restValue(dial.method);
  const t = Math.max(-1, Math.min(1, (dial.value - rest) / range));
  const angle = (t * SWEEP) / 2;

  const set = (value: number): void => {
    if (!Number.isFinite(value)) return;
    const v = Math.max(-1e5, Math.min(1e5, value));
    void runAction('turn-dial', { saeId: dial.saeId, feature: dial.feature, value: v });
  };

  const onPointerDown = (e: PointerEvent<HTMLDivElement>): void => {
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { x: e.clientX, y: e.clientY, value: dial.value };
    // the whole drag is one session step: its runs carry one gesture id
    dialStore.beginGesture();
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>): void => {
    if (!drag.current) return;
    const moved = e.clientX - drag.current.x - (e.clientY - drag.current.y);
    set(drag.current.value + moved * stepOf(dial, e.shiftKey));
  };
  const onPointerUp = (): void => {
    drag.current = null;
    dialStore.endGesture();
  };
  const onWheel = (e: WheelEvent<HTMLDivElement>): void => {
    // wheel turns while the pointer stays on the knob are one step too
    if (!dialStore.gestureActive()) dialStore.beginGesture();
    set(dial.value - Math.sign(e.deltaY) * stepOf(dial, e.shiftKey) * 5);
  };

  return (
    <div className={`dial ${dial.muted ? 'muted-dial' : ''}`} data-testid={`dial-${dial.feature}`}>
      <div
        className="knob"
        role="slider"
        tabIndex={0}
        aria-label={`Dial for feature ${dial.feature}: ${dial.label}`}
        aria-valuenow={dial.value}
        aria-valuemin={rest - range}
        aria-valuemax={rest + range}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onPointerLeave={() => {
          if (!drag.current) dialStore.endGesture();
        }}
        onWheel={onWheel}
        onDoubleClick={() => set(rest)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowUp' || e.key === 'ArrowRight')
            set(dial.value + stepOf(dial, e.shiftKey) * 5);
          if (e.key === 'ArrowDown' || e.key === 'ArrowLeft')
            set(dial.value - stepOf(dial, e.shiftKey) * 5);
          if (e.key === 'Home' || e.key === '0') set(rest);
        }}
      >
        <svg viewBox="0 0 40 40" width="44" height="44" aria-hidden="true">
          <circle cx="20" cy="20" r="15" className="knob-body" />
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
          <span className="mono">#{dial.feature}</span> {dial.label}
        </div>
        <div className="dial-controls">
          <input
            className="dial-value"
            aria-label={`Value of feature ${dial.feature}`}
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
            aria-label={`Method of feature ${dial.feature}`}
            value={dial.method}
            onChange={(e) => {
              const method = e.target.value as DialState['method'];
              dialStore.update(dial.key, { method, value: restValue(method) });
            }}
          >
            <option value="add">add</option>
            <option value="pin">pin</option>
            <option value="scale">scale</option>
          </select>
          <button
            type="button"
            aria-pressed={dial.muted}
            onClick={() => dialStore.update(dial.key, { muted: !dial.muted })}
          >
            {dial.muted ? 'Unmute' : 'Mute'}
          </button>
          <button
            type="button"
            aria-label={`Remove dial ${dial.feature}`}
            onClick={() => dialStore.remove(dial.key)}
          >
            ×
          </button>
        </div>
      </div>
    </div>
  );
}
