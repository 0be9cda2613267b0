/** Top examples: text windows with each token shaded by its activation, or image thumbnails. */
import { pngSize } from './pngSize';
import type { FeatureCard } from '../../../preload/contract';

type Example = FeatureCard['topExamples'][number];

function TextExample({ ex }: { ex: Example }) {
  const tokens = ex.tokens ?? [];
  const acts = ex.activations ?? [];
  const max = Math.max(1e-9, ...acts);
  return (
    <p className="card-text">
      {tokens.map((t, i) => {
        const a = Math.max(0, acts[i] ?? 0) / max;
        return (
          <span
            key={i}
            className={a > 0 ? 'tok on' : 'tok'}
            style={
              a > 0
                ? { background: `rgba(240, 194, 122, ${(0.15 + 0.65 * a).toFixed(3)})` }
                : undefined
            }
            title={acts[i] !== undefined ? acts[i].toPrecision(3) : undefined}
          >
            {t}
          </span>
        );
      })}
    </p>
  );
}

/** Display width of a strip thumbnail, in CSS pixels. */
const WIDE = 224;

export function TopExamples({ examples }: { examples: Example[] }) {
  if (examples.length === 0) return <p className="muted">No examples fire this feature.</p>;
  const images = examples.filter((e) => e.thumbnailPng);
  const texts = examples.filter((e) => !e.thumbnailPng);
  return (
    <div className="card-examples">
      {images.length > 0 && (
        <div className="card-thumbs">
          {images.map((e, i) => {
            const png = e.thumbnailPng ?? '';
            const size = pngSize(png);
            // A strip (a typeface's first letters) keeps its shape and says whose it is.
            const wide = size !== null && size.width >= 2 * size.height;
            const act = e.activation.toPrecision(3);
            return wide ? (
              <figure key={i} className="wide" title={`${e.name} · ${act}`}>
                <img
                  src={`data:image/png;base64,${png}`}
                  alt={e.name}
                  width={WIDE}
                  height={Math.round((WIDE * size.height) / size.width)}
                />
                <figcaption>
                  <span className="mono">{act}</span> {e.name}
                </figcaption>
              </figure>
            ) : (
              <figure key={i} title={`${e.name} · ${act}`}>
                <img src={`data:image/png;base64,${png}`} alt={e.name} width={56} height={56} />
                <figcaption className="mono">{act}</figcaption>
              </figure>
            );
          })}
        </div>
      )}
      {texts.map((e, i) => (
        <div key={i} className="card-example">
          <span className="mono muted">{e.activation.toPrecision(3)}</span>
          {e.tokens ? <TextExample ex={e} /> : <span>{e.name}</span>}
        </div>
      ))}
    </div>
  );
}
