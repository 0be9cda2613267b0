import type { RuntimeInfo } from '../../../preload/contract';
import type { RgbaImage } from '../compare/pixels';
import { useState } from 'react';
import { acceptOf, refusal, useFileDrop, useFilePaste, type FileKind } from './fileIntake';
import { uploadFile, type RunInput } from './inputs';
import { MaskPainter } from './MaskPainter';

interface Props {
  info: RuntimeInfo;
  input: RunInput;
  onChange: (input: RunInput) => void;
  /** The pack's spatial map, when dials can be painted onto a region. */
  spatial?: { height: number; width: number } | null;
  /** The current before-image (raw pixels), shown under the brush. */
  before?: RgbaImage | null;
}

function ExamplePicker({
  info,
  value,
  onPick,
}: {
  info: RuntimeInfo;
  value: number | null;
  onPick: (i: number) => void;
}) {
  return (
    <select
      aria-label="Example"
      value={value ?? ''}
      onChange={(e) => onPick(Number(e.target.value))}
    >
      {value === null && <option value="">your file</option>}
      {info.examples.map((x) => (
        <option key={x.index} value={x.index}>
          {x.name}
        </option>
      ))}
    </select>
  );
}

export function InputPanel({ info, input, onChange, spatial, before }: Props) {
  if (input.kind === 'text-lm') {
    return (
      <div className="input-panel">
        <div className="section-title">Prompt</div>
        <textarea
          aria-label="Prompt"
          rows={3}
          value={input.prompt}
          maxLength={20000}
          onChange={(e) => onChange({ ...input, prompt: e.target.value })}
        />
        <div className="row-inline">
          <label>
            tokens
            <input
              type="number"
              min={1}
              max={512}
              value={input.maxTokens}
              onChange={(e) =>
                onChange({
                  ...input,
                  maxTokens: Math.max(1, Math.min(512, Number(e.target.value) || 1)),
                })
              }
            />
          </label>
          <label>
            temperature
            <input
              type="number"
              min={0}
              max={5}
              step={0.1}
              value={input.temperature}
              onChange={(e) =>
                onChange({
                  ...input,
                  temperature: Math.max(0, Math.min(5, Number(e.target.value) || 0)),
                })
              }
            />
          </label>
          <label>
            seed
            <input
              type="number"
              min={0}
              value={input.seed}
              onChange={(e) =>
                onChange({ ...input, seed: Math.max(0, Math.floor(Number(e.target.value) || 0)) })
              }
            />
          </label>
        </div>
      </div>
    );
  }
  return (
    <MediaPanel info={info} input={input} onChange={onChange} spatial={spatial} before={before} />
  );
}

/** An image or glyph pack's input: an example, or the person's own file (picked or dropped). */
function MediaPanel({
  info,
  input,
  onChange,
  spatial,
  before,
}: Props & { input: Exclude<RunInput, { kind: 'text-lm' }> }) {
  const [upload, setUpload] = useState<{ name: string; error: string | null } | null>(null);
  const example = 'example' in input.source ? input.source.example : null;
  const fileKind: FileKind = input.kind === 'image-vae' ? 'image' : 'font';
  const open = async (file: File): Promise<void> => {
    const refused = refusal(fileKind, file);
    if (refused) {
      setUpload({ name: file.name, error: refused });
      return;
    }
    setUpload({ name: file.name, error: null });
    try {
      const source = await uploadFile(file);
      setUpload(null);
      onChange({ ...input, source });
    } catch (err) {
      setUpload({ name: file.name, error: (err as Error).message });
    }
  };
  const drop = useFileDrop((file) => void open(file));
  useFilePaste((file) => void open(file));
  return (
    <div
      className={drop.over ? 'input-panel drop-over' : 'input-panel'}
      data-testid="input-panel"
      {...drop.handlers}
    >
      <div className="section-title">{input.kind === 'image-vae' ? 'Image' : 'Style'}</div>
      <ExamplePicker
        info={info}
        value={example}
        onPick={(i) =>
          onChange(
            input.kind === 'image-vae'
              ? { ...input, source: { example: i } }
              : { ...input, source: { example: i } },
          )
        }
      />
      <div className="file-line">
        <label className="file-pick">
          {input.kind === 'image-vae' ? 'Open an image…' : 'Open a font…'}
          <input
            type="file"
            accept={acceptOf(fileKind)}
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) void open(file);
            }}
          />
        </label>
        <span className="muted">or drop or paste one</span>
      </div>
      {upload && (
        <div className={upload.error ? 'upload-status error' : 'upload-status'} role="status">
          {upload.error
            ? `Could not open ${upload.name}: ${upload.error}`
            : `Opening ${upload.name}…`}
        </div>
      )}
      {input.kind === 'glyph-cvae' && (
        <input
          aria-label="Specimen text"
          value={input.text}
          maxLength={64}
          onChange={(e) => onChange({ ...input, text: e.target.value || ' ' })}
        />
      )}
      {input.kind === 'image-vae' && spatial && (
        <MaskPainter
          height={spatial.height}
          width={spatial.width}
          mask={input.mask ?? null}
          image={before ?? null}
          onChange={(mask) => onChange({ ...input, mask })}
        />
      )}
    </div>
  );
}
