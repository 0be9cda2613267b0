/**
 * A brush over the decoder's spatial map: paint the cells where dials on the spatial hook
 * apply (drag to paint, Alt-drag or right-drag to erase). No cells painted = everywhere.
 */
import { useRef } from 'react';

interface Props {
  height: number;
  width: number;
  mask: number[] | null;
  imagePng: string | null;
  onChange: (mask: number[] | null) => void;
}

export function MaskPainter({ height, width, mask, imagePng, onChange }: Props) {
  const painting = useRef<0 | 1 | null>(null);
  const cells = mask ?? new Array<number>(height * width).fill(0);
  const paint = (i: number): void => {
    if (painting.current === null || cells[i] === painting.current) return;
    const next = [...cells];
    next[i] = painting.current;
    onChange(next.some((v) => v > 0) ? next : null);
  };
  return (
    <div className="mask-painter">
      <div
        className="mask-grid"
        style={{
          gridTemplateColumns: `repeat(${width}, 1fr)`,
          backgroundImage: imagePng ? `url(data:image/png;base64,${imagePng})` : undefined,
        }}
        onPointerUp={() => (painting.current = null)}
        onPointerLeave={() => (painting.current = null)}
        onContextMenu={(e) => e.preventDefault()}
        role="grid"
        aria-label="Paint where spatial dials apply"
      >
        {cells.map((v, i) => (
          <div
            key={i}
            role="gridcell"
            aria-selected={v > 0}
            data-cell={i}
            className={v > 0 ? 'painted' : undefined}
            onPointerDown={(e) => {
              e.currentTarget.parentElement?.releasePointerCapture?.(e.pointerId);
              painting.current = e.altKey || e.button === 2 ? 0 : 1;
              paint(i);
            }}
            onPointerEnter={() => paint(i)}
          />
        ))}
      </div>
      <div className="mask-bar">
        <span className="muted">
          {mask ? `${cells.filter((v) => v > 0).length} of ${cells.length} cells` : 'everywhere'}
        </span>
        {mask && (
          <button type="button" onClick={() => onChange(null)}>
            Clear brush
          </button>
        )}
      </div>
    </div>
  );
}
