/** Images before and after: side by side, as a wipe, and as a difference heatmap, with numbers. */
import { useEffect, useRef, useState } from 'react';
import { decodePng, distance, type Distance } from './pixels';

type Mode = 'side' | 'wipe' | 'heatmap';

export function ImageCompare({
  beforePng,
  afterPng,
  width,
  height,
}: {
  beforePng: string;
  afterPng: string;
  width: number;
  height: number;
}) {
  // A specimen (a row of glyphs) is shown one above the other, lower; a square image larger.
  const shape = width > 2 * height ? ' wide' : '';
  const [mode, setMode] = useState<Mode>('side');
  const [wipe, setWipe] = useState(50);
  const [dist, setDist] = useState<(Distance & { width: number; height: number }) | null>(null);
  const heatRef = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    let live = true;
    void Promise.all([decodePng(beforePng), decodePng(afterPng)]).then(([a, b]) => {
      if (live && a.width === b.width && a.height === b.height)
        setDist({ ...distance(a, b), width: a.width, height: a.height });
    });
    return () => {
      live = false;
    };
  }, [beforePng, afterPng]);

  useEffect(() => {
    const c = heatRef.current;
    if (!c || !dist) return;
    c.width = dist.width;
    c.height = dist.height;
    c.getContext('2d')?.putImageData(
      new ImageData(new Uint8ClampedArray(dist.heatmap), dist.width, dist.height),
      0,
      0,
    );
  }, [dist, mode]);

  const src = (b64: string) => `data:image/png;base64,${b64}`;
  return (
    <div className="compare-view">
      <div className="compare-head">
        <div className="segmented" role="group" aria-label="Compare mode">
          {(['side', 'wipe', 'heatmap'] as const).map((m) => (
            <button key={m} type="button" aria-pressed={mode === m} onClick={() => setMode(m)}>
              {m === 'side' ? 'Side by side' : m === 'wipe' ? 'Wipe' : 'Difference'}
            </button>
          ))}
        </div>
        {dist && (
          <span className="muted" data-testid="image-distance">
            pixel Δ {dist.meanAbs.toFixed(2)} · changed {(dist.changedShare * 100).toFixed(1)}% ·
            SSIM {dist.ssim.toFixed(3)}
          </span>
        )}
      </div>
      {mode === 'side' && (
        <div className={`image-pair${shape}`}>
          <figure>
            <img src={src(beforePng)} alt="before" data-testid="image-before" />
            <figcaption>Before</figcaption>
          </figure>
          <figure>
            <img src={src(afterPng)} alt="after" data-testid="image-after" />
            <figcaption>After</figcaption>
          </figure>
        </div>
      )}
      {mode === 'wipe' && (
        <div className="image-wipe">
          <div className={`wipe-stack${shape}`}>
            <img src={src(beforePng)} alt="before" />
            <img
              src={src(afterPng)}
              alt="after"
              className="wipe-top"
              style={{ clipPath: `inset(0 0 0 ${wipe}%)` }}
            />
          </div>
          <input
            type="range"
            min={0}
            max={100}
            value={wipe}
            aria-label="Wipe position"
            onChange={(e) => setWipe(Number(e.target.value))}
          />
        </div>
      )}
      {mode === 'heatmap' && (
        <div className={`image-pair${shape}`}>
          <figure>
            <canvas ref={heatRef} className="heatmap" aria-label="Difference heatmap" />
            <figcaption>Where they differ</figcaption>
          </figure>
        </div>
      )}
    </div>
  );
}
