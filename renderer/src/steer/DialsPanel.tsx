import { useEffect, useState } from 'react';
import type { RuntimeInfo } from '../../../preload/contract';
import { onCardsChanged } from '../galaxy/featureCache';
import { useGalaxy } from '../galaxy/useGalaxy';
import { Dial } from './Dial';
import { runAction } from '../actions/registry';
import { ensureRange } from './calibration';
import { useDials } from './useDials';

/** The dials of the side panel, with a way to add a feature by number. */
export function DialsPanel({ info }: { info: RuntimeInfo | null }) {
  const dials = useDials();
  const galaxyPack = useGalaxy((s) => s.packId);
  const packId = info?.packId ?? galaxyPack;
  // once the index is built its map loads: dials added before then ask for their range again
  const map = useGalaxy((s) => s.map);
  // a dial added by number, from a preset or a step gets its calibrated range too, asked
  // again whenever the cards change (a build's later stages, a label import)
  const [cardsSeen, setCardsSeen] = useState(0);
  useEffect(() => onCardsChanged(() => setCardsSeen((n) => n + 1)), []);
  useEffect(() => {
    if (!packId) return;
    for (const d of dials) if (!d.members) ensureRange(packId, d.saeId, d.feature);
  }, [packId, dials, map, cardsSeen]);
  const [saeId, setSaeId] = useState('');
  const [feature, setFeature] = useState('');
  const sae = info?.saes.find((s) => s.id === saeId) ?? info?.saes[0] ?? null;
  const n = Number(feature);
  const valid =
    sae !== null && feature.trim() !== '' && Number.isInteger(n) && n >= 0 && n < sae.dSae;
  return (
    <div className="dials">
      {dials.length === 0 && (
        <p className="muted">
          Turn a feature into a dial to steer the model: pick a star, or add a feature by number
          below.
        </p>
      )}
      {dials.map((d) => (
        <Dial key={d.key} dial={d} />
      ))}
      {info && sae && (
        <form
          className="add-dial"
          onSubmit={(e) => {
            e.preventDefault();
            if (!valid) return;
            void runAction('add-dial', { saeId: sae.id, feature: n });
            setFeature('');
          }}
        >
          {info.saes.length > 1 && (
            <select aria-label="SAE" value={sae.id} onChange={(e) => setSaeId(e.target.value)}>
              {info.saes.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.hook}
                </option>
              ))}
            </select>
          )}
          <input
            aria-label="Feature number"
            inputMode="numeric"
            placeholder={`feature 0–${sae.dSae - 1}`}
            value={feature}
            onChange={(e) => setFeature(e.target.value)}
          />
          <button type="submit" disabled={!valid}>
            Add dial
          </button>
          {dials.length > 0 && (
            <button type="button" onClick={() => void runAction('reset-dials')}>
              Clear
            </button>
          )}
        </form>
      )}
    </div>
  );
}
