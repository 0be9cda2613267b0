/**
 * Images before and after: side by side, as a wipe, and as a difference heatmap, with the
 * numbers. Everything arrives as raw RGBA with the metrics computed in the inference worker;
 * each canvas is kept and only has new bytes put into it. During a drag the canvases show the
 * sweep's frames (liveFrames.ts) and the numbers come from sweptShown.ts, not from `output`.
 */
import {
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type CanvasHTMLAttributes,
  type ReactNode,
} from 'react';
import type { ImageShown } from '../../../preload/contract';
import { onFrame, pictureOf, shownLive } from './liveFrames';
import { drawRgba, markDrawn, type RgbaImage } from './pixels';
import { onSweptShown, sweptShown } from './sweptShown';

type Mode = 'side' | 'wipe' | 'heatmap';

/** The pictures on show: a run's pixels (from its image.frame event or a reply that has them). */
export type ImageReply = ImageShown;

/**
 * A canvas that shows raw pixels; redrawn (bytes copied in) only when they change. `live`:
 * which picture of a live frame (liveFrames.ts) it draws as soon as one arrives.
 */
function PixelCanvas({
  image,
  live,
  ...rest
}: {
  image: RgbaImage;
  live: 'before' | 'after' | 'heatmap';
} & CanvasHTMLAttributes<HTMLCanvasElement> & {
    'data-testid'?: string;
  }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => {
    if (ref.current) drawRgba(ref.current, image);
  }, [image]);
  useEffect(
    () =>
      onFrame((f) => {
        if (ref.current) drawRgba(ref.current, pictureOf(f, live));
      }),
    [live],
  );
  return <canvas ref={ref} {...rest} />;
}

/**
 * The metrics on show: those of a drag sweep's frame drawn after `output` was given (the
 * canvases show it), else the output's own.
 */
function useShownMetrics(output: ImageReply): ImageReply['metrics'] {
  const swept = useSyncExternalStore(onSweptShown, sweptShown);
  // the sweep frames counted when this output came are older than it
  const [base, setBase] = useState({ output, count: swept.count });
  if (base.output !== output) {
    setBase({ output, count: swept.count });
    return output.metrics;
  }
  return swept.count > base.count && swept.metrics ? swept.metrics : output.metrics;
}

/** `tools`: buttons shown at the end of the header (Export…). */
export function ImageCompare({ output, tools }: { output: ImageReply; tools?: ReactNode }) {
  const { width, height } = output;
  const metrics = useShownMetrics(output);
  // A specimen (a row of glyphs) is shown one above the other, lower; a square image larger.
  const shape = width > 2 * height ? ' wide' : '';
  const [mode, setMode] = useState<Mode>('side');
  const [wipe, setWipe] = useState(50);
  const before = useMemo(
    () => ({ rgba: output.before, width, height }),
    [output.before, width, height],
  );
  const after = useMemo(
    () => ({ rgba: output.after, width, height }),
    [output.after, width, height],
  );
  const heat = useMemo(
    () => ({ rgba: output.heatmap, width, height }),
    [output.heatmap, width, height],
  );
  // children's layout effects (the canvas updates) have run: the next frame shows them,
  // unless a live frame put these very pixels there already (and marked them then)
  useLayoutEffect(() => {
    if (!shownLive(output.after)) markDrawn();
  }, [output]);

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
        <span
          className="muted"
          data-testid="image-distance"
          data-ssim-over={metrics.ssimOver ?? 'image'}
          title={
            metrics.ssimOver === 'ink'
              ? 'SSIM over the 11 × 11 windows that hold ink in either line of letters (the blank paper around them left out)'
              : undefined
          }
        >
          pixel Δ {metrics.meanAbs.toFixed(2)} · changed {(metrics.changedShare * 100).toFixed(1)}%
          · {metrics.ssimOver === 'ink' ? 'SSIM over ink' : 'SSIM'} {metrics.ssim.toFixed(3)}
        </span>
        {tools}
      </div>
      {mode === 'side' && (
        <div className={`image-pair${shape}`}>
          <figure>
            <PixelCanvas
              image={before}
              live="before"
              aria-label="before"
              role="img"
              data-testid="image-before"
            />
            <figcaption>Before</figcaption>
          </figure>
          <figure>
            <PixelCanvas
              image={after}
              live="after"
              aria-label="after"
              role="img"
              data-testid="image-after"
            />
            <figcaption>After</figcaption>
          </figure>
        </div>
      )}
      {mode === 'wipe' && (
        <div className="image-wipe">
          <div className={`wipe-stack${shape}`}>
            <PixelCanvas image={before} live="before" aria-label="before" role="img" />
            <PixelCanvas
              image={after}
              live="after"
              aria-label="after"
              role="img"
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
            <PixelCanvas
              image={heat}
              live="heatmap"
              className="heatmap"
              aria-label="Difference heatmap"
            />
            <figcaption>Where they differ</figcaption>
          </figure>
        </div>
      )}
    </div>
  );
}
