/** Rename a feature and keep notes (index.rename); the returned card replaces the cached one. */
import { useState } from 'react';
import type { FeatureCard } from '../../../preload/contract';
import { getClient } from '../api/client';
import { corpusRef, putFeatureCard } from '../galaxy/featureCache';
import { useGalaxy } from '../galaxy/useGalaxy';

export function RenameForm({
  packId,
  saeId,
  card,
}: {
  packId: string;
  saeId: string;
  card: FeatureCard;
}) {
  const corpus = useGalaxy((s) => s.corpus);
  const [label, setLabel] = useState(card.label);
  const [notes, setNotes] = useState(card.notes);
  const [state, setState] = useState<'idle' | 'saving' | 'saved' | string>('idle');
  const dirty = label !== card.label || notes !== card.notes;

  const save = async (): Promise<void> => {
    setState('saving');
    const r = await getClient().call('index.rename', {
      packId,
      saeId,
      ...corpusRef(corpus),
      feature: card.feature,
      label: label.trim(),
      notes,
    });
    if (!r.ok) return setState(r.error.message);
    putFeatureCard(packId, saeId, r.value, corpus);
    setState('saved');
  };

  return (
    <form
      className="card-rename"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <input
        aria-label="Feature label"
        value={label}
        maxLength={200}
        onChange={(e) => setLabel(e.target.value)}
      />
      <textarea
        aria-label="Notes"
        placeholder="Notes"
        value={notes}
        maxLength={10_000}
        rows={2}
        onChange={(e) => setNotes(e.target.value)}
      />
      <div className="row">
        <button type="submit" disabled={!dirty || state === 'saving'}>
          Save
        </button>
        {state === 'saved' && !dirty && <span className="muted">saved</span>}
        {state !== 'idle' && state !== 'saving' && state !== 'saved' && (
          <span className="error-text">{state}</span>
        )}
      </div>
    </form>
  );
}
