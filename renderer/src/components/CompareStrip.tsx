/** The bottom strip: the input on the left, before beside after on the right, and Export…. */
import { memo, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { RuntimeInfo } from '../../../preload/contract';
import { type NoPayload, mod, registerActions, runAction } from '../actions/registry';
import { ImageCompare } from '../compare/ImageCompare';
import { onSweptShown, sweptShown } from '../compare/sweptShown';
import { TextCompare } from '../compare/TextCompare';
import { ExportDialog } from '../export/ExportDialog';
import type { RunInput } from '../steer/inputs';
import { InputPanel as InputPanelView } from '../steer/InputPanel';
import type { RunState } from '../steer/useSteerRun';

interface Props {
  info: RuntimeInfo | null;
  infoError: string | null;
  input: RunInput | null;
  onInput: (input: RunInput) => void;
  run: RunState;
  spatial?: { height: number; width: number } | null;
}

/** Skipped when a drag sweep's frame re-renders the strip (its props stay the same then). */
const InputPanel = memo(InputPanelView);

declare module '../actions/registry' {
  interface ActionPayloads {
    'open-export': NoPayload;
  }
}

export function CompareStrip({ info, infoError, input, onInput, run, spatial }: Props) {
  const [exporting, setExporting] = useState(false);
  const canExport = info !== null && input !== null;
  // frames drawn from drag sweeps: counted outside the app's state (sweptShown.ts)
  const swept = useSyncExternalStore(onSweptShown, sweptShown).count;
  const out = run.output;
  const before = useMemo(
    () =>
      out?.kind === 'image'
        ? { rgba: out.value.before, width: out.value.width, height: out.value.height }
        : null,
    [out],
  );
  useEffect(
    () =>
      registerActions([
        {
          name: 'open-export',
          label: 'Export the output or a dial’s sweep',
          shortcut: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'e',
          enabled: () => canExport,
          perform: () => setExporting(true),
        },
      ]),
    [canExport],
  );
  if (!info || !input) {
    return (
      <footer className="compare" aria-label="Before and after">
        <div>
          <div className="section-title">Before</div>
          <p className={infoError ? 'error-text' : 'muted'}>
            {infoError ?? 'Open a pack: its output with every dial at rest appears here.'}
          </p>
        </div>
        <div>
          <div className="section-title">After</div>
          <p className="muted">
            The same input with your dials turned, so every difference is theirs.
          </p>
        </div>
      </footer>
    );
  }
  const tools = (
    <button
      type="button"
      className="compare-export"
      onClick={() => void runAction('open-export')}
      title="Export a PNG at a chosen size, a dial’s sweep, or the text with its diff (Ctrl+E)"
    >
      Export…
    </button>
  );
  return (
    <footer
      className="compare studio"
      aria-label="Before and after"
      data-running={run.running ? 'true' : 'false'}
      data-runs={run.runs}
      data-swept={swept}
      data-waiting={run.waiting ? 'true' : 'false'}
    >
      <div>
        <InputPanel
          info={info}
          input={input}
          onChange={onInput}
          spatial={spatial ?? null}
          before={before}
        />
      </div>
      <div>
        {run.error && (
          <p className="error-text" role="alert">
            {run.error}
          </p>
        )}
        {!out && !run.streamed && !run.error && <p className="muted">Running…</p>}
        {input.kind === 'text-lm' && (run.streamed || out?.kind === 'text') && (
          // One element for streamed and final text, so its view mode survives each run.
          <TextCompare
            prompt={input.prompt}
            before={run.streamed?.before ?? (out?.kind === 'text' ? out.value.before.text : '')}
            after={run.streamed?.after ?? (out?.kind === 'text' ? out.value.after.text : '')}
            streaming={run.streamed !== null}
            tools={tools}
          />
        )}
        {out?.kind === 'image' && <ImageCompare output={out.value} tools={tools} />}
      </div>
      {exporting && (
        <ExportDialog
          packId={info.packId}
          input={input}
          output={out}
          onClose={() => setExporting(false)}
        />
      )}
    </footer>
  );
}
