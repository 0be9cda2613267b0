import type { ReactNode } from 'react';
import type { PackList, PackSummary } from '../../../preload/contract';
import { useSettleFirstView } from '../api/firstView';
import { GalaxyPane } from '../galaxy/GalaxyPane';
import { formatFeatures } from '../../../preload/contract/counts';

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function NoPacks({ list, onImport }: { list: PackList; onImport: () => void }) {
  return (
    <div className="empty" data-testid="empty-galaxy">
      <h2>No model packs yet</h2>
      <p>
        Orrery looks for packs in <span className="path">{list.folders.bundled}</span> and in your
        library, <span className="path">{list.folders.library}</span>.
      </p>
      <p>Put a pack folder in either place, or import one from anywhere on disk.</p>
      <button type="button" className="primary" onClick={onImport}>
        Import a pack…
      </button>
      {list.problems.length > 0 && <Problems list={list} />}
    </div>
  );
}

function Problems({ list }: { list: PackList }) {
  return (
    <ul className="problems" aria-label="Packs that could not be opened">
      {list.problems.map((p) => (
        <li key={`${p.dir}/${p.file}`}>
          <span className="path">
            {p.dir}/{p.file}
          </span>
          : {p.message}
        </li>
      ))}
    </ul>
  );
}

/** A pack shown without its map: what has no index (`lead`), the Build button, the pack's facts. */
function PackWithoutMap({
  pack,
  list,
  note,
  lead,
}: {
  pack: PackSummary;
  list: PackList;
  note: ReactNode;
  lead: string;
}) {
  return (
    <div className="empty" data-testid="pack-without-map">
      <h2>{pack.name}</h2>
      <p data-testid="no-map-lead">{lead}</p>
      {note}
      <div className="pack-card">
        <dl className="facts">
          <dt>kind</dt>
          <dd>{pack.kind}</dd>
          <dt>SAEs</dt>
          <dd>
            {pack.saes
              .map((s) => `${s.hook} (${formatFeatures(s.dSae)}, ${s.architecture ?? '?'})`)
              .join(', ') || 'none'}
          </dd>
          <dt>size</dt>
          <dd>{megabytes(pack.sizeBytes)}</dd>
          <dt>licence</dt>
          <dd>{pack.license}</dd>
          <dt>folder</dt>
          <dd>{pack.dir}</dd>
        </dl>
        <p className="empty-note">{pack.source}</p>
      </div>
      {list.problems.length > 0 && <Problems list={list} />}
    </div>
  );
}

export function GalaxyArea({
  list,
  pack,
  onImport,
  onPacksChanged,
}: {
  list: PackList | null;
  pack: PackSummary | null;
  onImport: () => void;
  /** The pack list changed in the galaxy ("Add SAE…"). */
  onPacksChanged?: () => void;
}) {
  useSettleFirstView(list !== null && pack === null);
  return (
    <main className="galaxy" aria-label="Feature galaxy">
      {list === null ? (
        <p className="muted">Looking for model packs…</p>
      ) : pack === null ? (
        <NoPacks list={list} onImport={onImport} />
      ) : (
        <GalaxyPane
          key={pack.id}
          pack={pack}
          onPacksChanged={onPacksChanged}
          fallback={(note, lead) => (
            <PackWithoutMap pack={pack} list={list} note={note} lead={lead} />
          )}
        />
      )}
    </main>
  );
}
