import type { CallOutput, Result } from '../../../preload/contract';

function fmt(values: number[]): string {
  return `[${values.map((v) => (Math.round(v * 1e4) / 1e4).toString()).join(', ')}]`;
}

export function HealthPanel({
  result,
  onRefresh,
}: {
  result: Result<CallOutput<'app.health'>> | null;
  onRefresh: () => void;
}) {
  if (!result) return <p className="muted">Checking the runtime…</p>;
  if (!result.ok) return <p className="error-text">Health check failed: {result.error.message}</p>;
  const h = result.value;
  return (
    <div data-testid="health">
      <dl className="facts">
        <dt>
          <span className={`status-dot ${h.onnx.ok ? 'good' : 'bad'}`} />
          ONNX Runtime
        </dt>
        <dd data-testid="onnx-version">{h.onnx.version}</dd>
        <dt>tiny inference</dt>
        <dd data-testid="onnx-check">
          {fmt(h.onnx.check.got)} in {h.onnx.check.ms.toFixed(1)} ms
        </dd>
        <dt>
          <span className={`status-dot ${h.sqlite.ok ? 'good' : 'bad'}`} />
          SQLite
        </dt>
        <dd data-testid="sqlite-version">{h.sqlite.version}</dd>
        <dt>FTS5 · journal</dt>
        <dd data-testid="sqlite-fts5">
          {h.sqlite.fts5 ? 'FTS5 available' : 'FTS5 missing'} · {h.sqlite.journalMode}
        </dd>
        <dt>Node</dt>
        <dd>
          {h.node.version} · {h.node.platform} {h.node.arch}
        </dd>
        <dt>Mode</dt>
        <dd>
          {h.app.mode} · Orrery {h.app.version}
        </dd>
      </dl>
      {(h.onnx.error ?? h.sqlite.error) && (
        <p className="error-text">{h.onnx.error ?? h.sqlite.error}</p>
      )}
      <p>
        <button type="button" onClick={onRefresh}>
          Check again
        </button>
      </p>
    </div>
  );
}
