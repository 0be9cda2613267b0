/**
 * A brush over the decoder's spatial map: paint the cells where dials on the spatial hook
 * apply (drag to paint, Alt-drag or right-drag to erase). No cells painted = everywhere.
 * A stroke (press to release) is one gesture: one session step however many cells it paints.
 */
import { useEffect, useRef, useState } from 'react';
import { rgbaToPngBlob, samePixels, type RgbaImage } from '../compare/pixels';
import { beginGesture, endGesture } from './gesture';

interface Props {
  height: number;
  width: number;
  mask: number[] | null;
  /** The before-image under the brush (raw pixels). */
  image: RgbaImage | null;
  onChange: (mask: number[] | null) => void;
}

/**
 * An object URL of the image as PNG, made again only when its pixels change (replies carry
 * fresh arrays on every dial tick; the before-image stays the same during a drag).
 */
function useImageUrl(image: RgbaImage | null): string | null {
  const [url, setUrl] = useState<string | null>(null);
  const shown = useRef<RgbaImage | null>(null);
  useEffect(() => {
    if (samePixels(shown.current, image)) return;
    shown.current = image;
    if (!image) return;
    void rgbaToPngBlob(image).then((b) => {
      // a newer image may have been asked for meanwhile: only the latest is shown
      if (shown.current === image) setUrl(URL.createObjectURL(b));
    });
  }, [image]);
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);
  return image ? url : null;
}

export function MaskPainter({ height, width, mask, image, onChange }: Props) {
  const painting = useRef<0 | 1 | null>(null);
  const imageUrl = useImageUrl(image);
  const cells = mask ?? new Array<number>(height * width).fill(0);
  const paint = (i: number): void => {
    if (painting.current === null || cells[i] === painting.current) return;
    const next = [...cells];
    next[i] = painting.current;
    onChange(next.some((v) => v > 0) ? next : null);
  };
  const stop = (): void => {
    if (painting.current === null) return;
    painting.current = null;
    endGesture();
  };
  return (
    <div className="mask-painter">
      <div
        className="mask-grid"
        style={{
          gridTemplateColumns: `repeat(${width}, 1fr)`,
          backgroundImage: imageUrl ? `url(${imageUrl})` : undefined,
        }}
        onPointerUp={stop}
        onPointerLeave={stop}
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
              beginGesture();
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
