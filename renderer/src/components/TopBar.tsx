import { useEffect, useRef } from 'react';
import type { PackSummary } from '../../../preload/contract';
import { runAction } from '../actions/registry';
import { SearchBox } from '../galaxy/SearchBox';
import { OrbitMark } from './OrbitMark';

interface Props {
  packs: PackSummary[];
  selectedId: string | null;
  onSelect: (id: string) => void;
  onImport: () => void;
  searchHint: string;
}

export function TopBar({ packs, selectedId, onSelect, onImport, searchHint }: Props) {
  const searchRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const target = e.target as HTMLElement | null;
      const typing = target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA');
      if (e.key === '/' && !typing) {
        e.preventDefault();
        searchRef.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <header className="topbar">
      <div className="brand">
        <OrbitMark />
        Orrery
      </div>
      <label className="muted" htmlFor="pack-picker">
        Pack
      </label>
      <select
        id="pack-picker"
        aria-label="Model pack"
        value={selectedId ?? ''}
        disabled={packs.length === 0}
        onChange={(e) => onSelect(e.target.value)}
      >
        {packs.length === 0 && <option value="">No packs found</option>}
        {packs.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name} · {p.kind}
          </option>
        ))}
      </select>
      <SearchBox inputRef={searchRef} hint={searchHint} />
      <div className="spacer" />
      <button type="button" onClick={() => void runAction('open-model')}>
        Open model…
      </button>
      <button type="button" onClick={onImport}>
        Import pack…
      </button>
    </header>
  );
}
