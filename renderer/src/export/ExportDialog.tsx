/**
 * Export: the output on screen as a PNG at a chosen size (scaled in main with the Lanczos-3
 * filter) or, for text, with the diff marked; and one dial's sweep from −2× to +4× its
 * typical activation as a strip, an animated WebP or GIF, or text. Main makes the file and
 * sends its bytes; it is saved the way every export is (session/download.ts).
 */
import { useState } from 'react';
import type { ExportFile, ImageShown, Result, SweepFormat } from '../../../preload/contract';
import { EXPORT_SIZES, SWEEP_MAX_SIZE } from '../../../preload/contract/exportSizes';
import { getClient } from '../api/client';
import { inputPart } from '../card/EffectStrip';
import { Dialog } from '../components/Dialog';
import { getFeatureCard } from '../galaxy/featureCache';
import { download } from '../session/download';
import { rangeOf } from '../steer/calibration';
import type { RunInput } from '../steer/inputs';
import type { RunOutput } from '../steer/useSteerRun';
import { useDials } from '../steer/useDials';

const SWEEP_SIZES = EXPORT_SIZES.filter((s) => s <= SWEEP_MAX_SIZE);
const formatNames: Record<SweepFormat, string> = {
  strip: 'strip of pictures (PNG)',
  webp: 'animated WebP',
  gif: 'animated GIF',
  text: 'text, changed words marked',
};

/** The typical activation (1×) and calibrated limit a dial's sweep is measured in. */
async function rangeFor(
  packId: string,
  saeId: string,
  feature: number,
): Promise<{ typical: number; limit?: number } | null> {
  const known = rangeOf(saeId, feature);
  if (known) return { typical: known.typical, limit: known.limit };
  const card = await getFeatureCard(packId, saeId, feature);
  if (!card.ok) return null;
  const typical = card.value.calibration?.typical ?? card.value.meanActivation;
  if (!(typical > 0)) return null;
  const limit = card.value.calibration?.limit;
  return limit && limit > 0 ? { typical, limit } : { typical };
}

/** A size in pixels, from those offered, named by its label. */
function SizeSelect({
  label,
  sizes,
  value,
  onChange,
}: {
  label: string;
  sizes: readonly number[];
  value: number;
  onChange: (size: number) => void;
}) {
  return (
    <label>
      {label}
      <select aria-label={label} value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {sizes.map((s) => (
          <option key={s} value={s}>
            {s} px
          </option>
        ))}
      </select>
    </label>
  );
}

export function ExportDialog({
  packId,
  input,
  output,
  onClose,
}: {
  packId: string;
  input: RunInput;
  output: RunOutput | null;
  onClose: () => void;
}) {
  // a composite dial (several features) has no one feature to sweep
  const dials = useDials().filter((d) => !(d as { members?: unknown }).members);
  const text = input.kind === 'text-lm';
  const [size, setSize] = useState<number>(512);
  const [which, setWhich] = useState<'after' | 'before'>('after');
  const [dialKey, setDialKey] = useState<string>(dials[0]?.key ?? '');
  const [format, setFormat] = useState<SweepFormat>(text ? 'text' : 'strip');
  const [frameSize, setFrameSize] = useState<number>(256);
  const [busy, setBusy] = useState<string | null>(null);
  const [status, setStatus] = useState<{ error: boolean; message: string } | null>(null);
  const dial = dials.find((d) => d.key === dialKey) ?? dials[0] ?? null;

  // while a file is made the buttons stay focusable (a disabled one would drop the focus out of
  // the dialog, and Escape with it) but do nothing
  const save = async (what: string, make: () => Promise<Result<ExportFile>>): Promise<void> => {
    if (busy !== null) return;
    setBusy(what);
    setStatus(null);
    try {
      const r = await make();
      if (!r.ok) return setStatus({ error: true, message: r.error.message });
      const f = r.value;
      download(f.name, f.bytes.slice(), f.mime);
      const frames = f.frames > 1 ? `, ${f.frames} frames` : '';
      const dims = f.width !== null ? ` (${f.width}×${f.height}${frames})` : '';
      setStatus({ error: false, message: `Saved ${f.name}${dims}` });
    } finally {
      setBusy(null);
    }
  };

  const saveOutput = (): Promise<void> =>
    save('output', async () => {
      if (output?.kind === 'text' && input.kind === 'text-lm')
        return getClient().call('export.text', {
          prompt: input.prompt,
          before: output.value.before.text,
          after: output.value.after.text,
          name: `${packId}-text`,
        });
      if (output?.kind !== 'image')
        return {
          ok: false,
          error: { code: 'bad_input', message: 'nothing to export yet: the run has not finished' },
        };
      const v: ImageShown = output.value;
      return getClient().call('export.image', {
        rgba: which === 'after' ? v.after : v.before,
        width: v.width,
        height: v.height,
        size,
        name: `${packId}-${which}`,
      });
    });

  const saveSweep = (): Promise<void> =>
    save('sweep', async () => {
      if (!dial) return { ok: false, error: { code: 'bad_input', message: 'add a dial first' } };
      const range = await rangeFor(packId, dial.saeId, dial.feature);
      if (!range)
        return {
          ok: false,
          error: {
            code: 'not_found',
            message: `feature ${dial.feature} has no typical activation in the index yet`,
          },
        };
      return getClient().call('export.sweep', {
        packId,
        saeId: dial.saeId,
        feature: dial.feature,
        ...range,
        ...inputPart(input),
        format,
        size: frameSize,
      });
    });

  return (
    <Dialog title="Export" onEscape={onClose}>
      <section className="export-part" aria-label="Export the output">
        <h3>The output</h3>
        {text ? (
          <p className="muted">
            The prompt and continuation, with the words the dials added marked {'{+so+}'} and the
            ones they removed [-so-], then before and after.
          </p>
        ) : (
          <div className="export-row">
            <label>
              Picture
              <select
                aria-label="Picture"
                value={which}
                onChange={(e) => setWhich(e.target.value as 'after' | 'before')}
              >
                <option value="after">after (dials turned)</option>
                <option value="before">before (dials at rest)</option>
              </select>
            </label>
            <SizeSelect
              label="Size (long side)"
              sizes={EXPORT_SIZES}
              value={size}
              onChange={setSize}
            />
          </div>
        )}
        <button
          type="button"
          className="primary"
          // the keyboard starts in the dialog (Tab moves on, Escape closes it)
          autoFocus
          disabled={!output}
          aria-disabled={busy !== null}
          onClick={() => void saveOutput()}
        >
          {text ? 'Save text' : 'Save PNG'}
        </button>
      </section>
      <section className="export-part" aria-label="Export a dial's sweep">
        <h3>A dial’s sweep, −2× to +4× its typical activation</h3>
        {dials.length === 0 ? (
          <p className="muted">Add a dial to sweep it.</p>
        ) : (
          <div className="export-row">
            <label>
              Dial
              <select
                aria-label="Dial"
                value={dial?.key ?? ''}
                onChange={(e) => setDialKey(e.target.value)}
              >
                {dials.map((d) => (
                  <option key={d.key} value={d.key}>
                    #{d.feature} {d.label}
                  </option>
                ))}
              </select>
            </label>
            <label>
              As
              <select
                aria-label="Sweep as"
                value={format}
                onChange={(e) => setFormat(e.target.value as SweepFormat)}
              >
                {(text ? (['text'] as const) : (['strip', 'webp', 'gif'] as const)).map((f) => (
                  <option key={f} value={f}>
                    {formatNames[f]}
                  </option>
                ))}
              </select>
            </label>
            {!text && (
              <SizeSelect
                label="Frame size"
                sizes={SWEEP_SIZES}
                value={frameSize}
                onChange={setFrameSize}
              />
            )}
          </div>
        )}
        <button
          type="button"
          disabled={dials.length === 0}
          aria-disabled={busy !== null}
          onClick={() => void saveSweep()}
        >
          Save sweep
        </button>
      </section>
      <p
        className={status?.error ? 'error-text' : 'muted'}
        role="status"
        data-testid="export-status"
        data-busy={busy ?? ''}
      >
        {busy ? `Making the ${busy === 'sweep' ? 'sweep' : 'file'}…` : (status?.message ?? '')}
      </p>
      <div className="row">
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
