/**
 * Carry across: the current dials or a preset, on one SAE of the pack, mapped through a built
 * bridge to another SAE (bridge.carry) as a draft the person edits (each row: source dial →
 * matched feature with the bridge's score, an editable strength, remove), then applied as the
 * dials; the mapping goes with the next runs as `carried` (carried.ts), so the step keeps it.
 */
import { useEffect, useState } from 'react';
import type { CallOutput, DialInput } from '../../../preload/contract';
import { getClient } from '../api/client';
import { dialStore } from '../steer/store';
import { setCarried } from './carried';
import './carry.css';
import { scoreName } from '../bridge/scoreName';

type Draft = CallOutput<'bridge.carry'>;
type Presets = CallOutput<'presets.list'>;

interface Ref {
  packId: string;
  saeId: string;
}

/** The built bridge between two SAEs, in whichever order it was built, `from`'s side, and its
 * method (the pair's default bridge when built, else its effect bridge). */
async function bridgeBetween(
  from: Ref,
  to: Ref,
): Promise<{ a: Ref; b: Ref; side: 'a' | 'b'; method: Draft['method'] } | null> {
  for (const [a, b, side] of [
    [from, to, 'a'],
    [to, from, 'b'],
  ] as const) {
    const s = await getClient().call('bridge.status', { a, b });
    if (s.ok && s.value.built && s.value.method) return { a, b, side, method: s.value.method };
  }
  return null;
}

export function CarryPanel({ packId, presets }: { packId: string; presets: Presets }) {
  const [saes, setSaes] = useState<{ id: string; hook: string }[]>([]);
  const [source, setSource] = useState('');
  const [target, setTarget] = useState('');
  const [draft, setDraft] = useState<Draft | null>(null);
  const [values, setValues] = useState<number[]>([]);
  const [removed, setRemoved] = useState<Set<number>>(new Set());
  const [note, setNote] = useState('');

  useEffect(() => {
    let live = true;
    void getClient()
      .call('packs.list', {})
      .then((r) => {
        if (!live || !r.ok) return;
        setSaes(r.value.packs.find((p) => p.id === packId)?.saes ?? []);
      });
    return () => {
      live = false;
    };
  }, [packId]);

  const sourceDials = (): DialInput[] =>
    source === '' ? dialStore.forApi() : (presets.find((p) => p.name === source)?.dials ?? []);

  const makeDraft = async (): Promise<void> => {
    setDraft(null);
    const dials = sourceDials();
    const from = dials[0]?.saeId;
    if (!from) return setNote('No dials to carry: turn some, or pick a preset.');
    const to = target || saes.find((s) => s.id !== from)?.id;
    if (!to || to === from) return setNote(`Pick an SAE other than ${from} to carry to.`);
    const found = await bridgeBetween({ packId, saeId: from }, { packId, saeId: to });
    if (!found) return setNote(`No bridge is built between ${from} and ${to}: build it first.`);
    const own = dials.filter((d) => d.saeId === from);
    const r = await getClient().call('bridge.carry', {
      a: found.a,
      b: found.b,
      from: found.side,
      method: found.method,
      dials: own,
    });
    if (!r.ok) return setNote(r.error.message);
    setDraft(r.value);
    // four significant digits: what a person reads and edits (the scores carry the precision)
    setValues(r.value.rows.map((x) => Number(x.dial.value.toPrecision(4))));
    setRemoved(new Set());
    const other = dials.length - own.length;
    setNote(other > 0 ? `${other} dial(s) on other SAEs than ${from} are not carried.` : '');
  };

  const apply = (): void => {
    if (!draft) return;
    const rows = draft.rows
      .map((r, i) => ({ r, value: values[i] ?? r.dial.value }))
      .filter((_, i) => !removed.has(i));
    setCarried({
      from: draft.from,
      to: draft.to,
      method: draft.method,
      rows: rows.map(({ r, value }) => ({
        sourceFeature: r.source.feature,
        sourceValue: r.source.value,
        sourceLabel: r.sourceLabel?.slice(0, 200) ?? null,
        feature: r.feature,
        label: r.label?.slice(0, 200) ?? null,
        score: r.score,
        value,
      })),
    });
    // the mapping first: restoring the dials starts the run that sends it
    dialStore.restore(rows.map(({ r, value }) => ({ ...r.dial, value })));
    setDraft(null);
    setNote(`Applied ${rows.length} carried dial(s) on ${draft.to.saeId}.`);
  };

  if (saes.length < 2) return null;
  return (
    <details className="carry" data-testid="carry-panel">
      <summary>Carry across…</summary>
      <div className="carry-pick">
        <label>
          carry{' '}
          <select
            aria-label="Dials to carry"
            data-testid="carry-source"
            value={source}
            onChange={(e) => setSource(e.target.value)}
          >
            <option value="">the current dials</option>
            {presets.map((p) => (
              <option key={p.name} value={p.name}>
                preset {p.name}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          to{' '}
          <select
            aria-label="SAE to carry to"
            data-testid="carry-target"
            value={target}
            onChange={(e) => setTarget(e.target.value)}
          >
            <option value="">the other SAE</option>
            {saes.map((s) => (
              <option key={s.id} value={s.id}>
                {s.id} ({s.hook})
              </option>
            ))}
          </select>
        </label>{' '}
        <button type="button" data-testid="carry-draft" onClick={() => void makeDraft()}>
          Draft
        </button>
      </div>
      {note && <p className="muted">{note}</p>}
      {draft && (
        <>
          <table className="carry-rows" data-testid="carry-rows">
            <thead>
              <tr>
                <th>{draft.from.saeId}</th>
                <th>→ {draft.to.saeId}</th>
                <th>{scoreName(draft.method)}</th>
                <th>strength</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {draft.rows.map((r, i) =>
                removed.has(i) ? null : (
                  <tr key={`${r.source.feature}-${i}`} data-testid="carry-row">
                    <td>
                      {r.sourceLabel ?? `feature ${r.source.feature}`}{' '}
                      <span className="mono muted">{r.source.value.toFixed(2)}</span>
                    </td>
                    <td>{r.label ?? `feature ${r.feature}`}</td>
                    <td className="mono" title={r.status === 'shared' ? 'shared' : 'a weak match'}>
                      {r.score.toFixed(2)}
                      {r.status === 'specific' ? ' (weak)' : ''}
                    </td>
                    <td>
                      <input
                        type="number"
                        step="any"
                        aria-label={`Strength of feature ${r.feature}`}
                        data-testid="carry-value"
                        value={values[i] ?? r.dial.value}
                        onChange={(e) => {
                          const v = Number(e.target.value);
                          if (!Number.isFinite(v)) return;
                          setValues((vs) => vs.map((x, j) => (j === i ? v : x)));
                        }}
                      />
                    </td>
                    <td>
                      <button
                        type="button"
                        className="link"
                        aria-label={`Remove feature ${r.feature}`}
                        onClick={() => setRemoved((s) => new Set([...s, i]))}
                      >
                        ×
                      </button>
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
          {draft.unmatched.length > 0 && (
            <ul className="muted">
              {draft.unmatched.map((u, i) => (
                <li key={i}>
                  feature {u.source.feature}: {u.reason}
                </li>
              ))}
            </ul>
          )}
          <button
            type="button"
            data-testid="carry-apply"
            onClick={apply}
            disabled={draft.rows.length === removed.size}
          >
            Apply as dials
          </button>
        </>
      )}
    </details>
  );
}
