/** Presets of the pack: save the dials under a name; a chip applies one; carry them across a
 * bridge to another SAE (CarryPanel). */
import { useEffect, useState } from 'react';
import type { CallOutput } from '../../../preload/contract';
import { runAction } from '../actions/registry';
import { getClient } from '../api/client';
import { CarryPanel } from '../carry/CarryPanel';

export function PresetsBar({ packId }: { packId: string }) {
  const [presets, setPresets] = useState<CallOutput<'presets.list'>>([]);
  const [presetName, setPresetName] = useState('');

  useEffect(() => {
    let live = true;
    void getClient()
      .call('presets.list', { packId })
      .then((r) => live && r.ok && setPresets(r.value));
    return () => {
      live = false;
    };
  }, [packId]);

  const savePreset = async (): Promise<void> => {
    const name = presetName.trim();
    if (!name) return;
    await runAction('save-preset', { name });
    setPresetName('');
    const l = await getClient().call('presets.list', { packId });
    if (l.ok) setPresets(l.value);
  };

  return (
    <>
      <div className="presets">
        <input
          aria-label="Preset name"
          placeholder="name these dials"
          value={presetName}
          maxLength={200}
          onChange={(e) => setPresetName(e.target.value)}
        />
        <button type="button" onClick={() => void savePreset()} disabled={!presetName.trim()}>
          Save preset
        </button>
        {presets.map((p) => (
          <button
            key={p.name}
            type="button"
            className="chip"
            onClick={() => void runAction('apply-preset', { dials: p.dials })}
            title="Apply this preset"
          >
            {p.name}
          </button>
        ))}
      </div>
      <CarryPanel packId={packId} presets={presets} />
    </>
  );
}
