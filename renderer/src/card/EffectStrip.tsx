/**
 * A card's effect strip: the pack's current input (or example 0) at −2×, 0, +1×, +2×, +4×
 * the feature's typical activation. Pictures and specimens arrive as raw RGBA from the
 * inference worker and are copied into canvases; text shows each strength's greedy
 * continuation with the words that changed from 0× marked. Asked for lazily (once the card
 * has stayed a moment) and cached here and in the main process.
 */
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { z } from 'zod';
import type { EffectStripOutput } from '../../../preload/contract';
import type { Result } from '../../../preload/contract';
import { getClient } from '../api/client';
import { drawRgba } from '../compare/pixels';
import type { RunInput } from '../steer/inputs';
import { stripInput, subscribeStripInput } from './stripInput';

type Strip = z.output<typeof EffectStripOutput>;

const cache = new Map<string, Promise<Result<Strip>>>();
/** Wait this long after a card appears before asking (hovering across stars asks nothing). */
const SETTLE_MS = 250;

export function inputPart(input: RunInput | null): Record<string, unknown> {
  if (!input) return {};
  if (input.kind === 'text-lm') return input.prompt.trim() ? { prompt: input.prompt } : {};
  const source =
    'blob' in input.source ? { blob: input.source.blob } : { example: input.source.example };
  if (input.kind === 'glyph-cvae') return { source, ...(input.text ? { text: input.text } : {}) };
  return { source };
}

function getStrip(args: Record<string, unknown>): Promise<Result<Strip>> {
  const k = JSON.stringify(args);
  let p = cache.get(k);
  if (!p) {
    p = getClient().call('runtime.effectStrip', args as never) as Promise<Result<Strip>>;
    cache.set(k, p);
    void p.then((r) => {
      if (!r.ok) cache.delete(k);
    });
  }
  return p;
}

const label = (m: number): string =>
  m === 0 ? '0' : `${m > 0 ? '+' : '−'}${Number(Math.abs(m).toPrecision(3))}×`;

function Frame({ frame }: { frame: Strip['frames'][number] }) {
  const ref = useRef<HTMLCanvasElement | null>(null);
  const img = frame.image;
  useEffect(() => {
    if (ref.current && img) drawRgba(ref.current, img);
  }, [img]);
  if (!img) return null;
  return (
    <figure
      className={`strip-frame ${img.width > img.height * 2 ? 'strip-wide' : ''}`}
      data-multiple={frame.multiple}
      data-ssim={img.ssim.toFixed(4)}
    >
      <canvas ref={ref} aria-label={`at ${label(frame.multiple)}`} />
      <figcaption className="mono">{label(frame.multiple)}</figcaption>
    </figure>
  );
}

export function EffectStrip(props: {
  packId: string;
  saeId: string;
  feature: number;
  typical: number;
  /** the calibrated limit, when known (one more frame at it) */
  limit?: number;
}) {
  const input = useSyncExternalStore(subscribeStripInput, stripInput);
  const args = {
    packId: props.packId,
    saeId: props.saeId,
    feature: props.feature,
    typical: props.typical,
    ...(props.limit && props.limit > 0 ? { limit: props.limit } : {}),
    ...inputPart(input),
  };
  const key = JSON.stringify(args);
  const [state, setState] = useState<{ key: string; result: Result<Strip> } | null>(null);
  useEffect(() => {
    if (!(props.typical > 0)) return;
    let live = true;
    const t = setTimeout(() => {
      void getStrip(JSON.parse(key) as Record<string, unknown>).then((result) => {
        if (live) setState({ key, result });
      });
    }, SETTLE_MS);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [key, props.typical]);
  const loaded = state && state.key === key ? state.result : null;
  return (
    <div
      className="effect-strip"
      data-testid="effect-strip"
      data-ready={loaded?.ok ? 'true' : 'false'}
    >
      <div className="card-sub">
        effect at −2×, 0, +1×, +2×, +4× typical{props.limit ? ' and the dial’s limit' : ''}
      </div>
      {!loaded && <p className="muted">drawing…</p>}
      {loaded && !loaded.ok && <p className="muted">no strip: {loaded.error.message}</p>}
      {loaded?.ok && loaded.value.frames.some((f) => f.image) && (
        <div className="strip-images">
          {loaded.value.frames.map((f) => (
            <Frame key={f.multiple} frame={f} />
          ))}
        </div>
      )}
      {loaded?.ok && loaded.value.frames.some((f) => f.text) && (
        <ul className="strip-texts">
          {loaded.value.frames.map((f) =>
            f.text ? (
              <li key={f.multiple} data-multiple={f.multiple}>
                <span className="mono muted strip-m">{label(f.multiple)}</span>
                <span className="strip-words">
                  {f.text.tokens.map((t, i) => (
                    <span key={i} className={f.text?.changed[i] ? 'strip-changed' : undefined}>
                      {t}
                    </span>
                  ))}
                </span>
              </li>
            ) : null,
          )}
        </ul>
      )}
    </div>
  );
}
