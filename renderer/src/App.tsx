import { useEffect, useMemo, useState } from 'react';
import { useCall } from './api/useCall';
import { CompareStrip } from './components/CompareStrip';
import { GalaxyArea } from './components/GalaxyArea';
import { HealthPanel } from './components/HealthPanel';
import { ImportDialog } from './components/ImportDialog';
import { FeatureCardPanel } from './card/FeatureCardPanel';
import { useActiveFeatures } from './galaxy/useActiveFeatures';
import { SidePanel } from './components/SidePanel';
import { TopBar } from './components/TopBar';
import { DialsPanel } from './steer/DialsPanel';
import { defaultInput, type RunInput } from './steer/inputs';
import { dialStore } from './steer/store';
import { useRuntimeInfo } from './steer/useRuntimeInfo';
import { useSteerRun } from './steer/useSteerRun';

const PACK_KEY = 'orrery.selectedPack';

export function App() {
  const health = useCall('app.health', {});
  const packs = useCall('packs.list', {});
  const [selectedId, setSelectedId] = useState<string | null>(() => localStorage.getItem(PACK_KEY));
  const [importing, setImporting] = useState(false);

  const list = packs.result?.ok ? packs.result.value : null;
  const pack = useMemo(() => {
    if (!list || list.packs.length === 0) return null;
    return list.packs.find((p) => p.id === selectedId) ?? list.packs[0] ?? null;
  }, [list, selectedId]);

  useEffect(() => {
    if (pack) localStorage.setItem(PACK_KEY, pack.id);
  }, [pack]);

  const runtime = useRuntimeInfo(pack?.id ?? null);
  const [input, setInput] = useState<{ packId: string; value: RunInput } | null>(null);
  const packKind = pack?.kind ?? null;
  const packId = pack?.id ?? null;
  const currentInput = useMemo(
    () =>
      input && input.packId === packId ? input.value : packKind ? defaultInput(packKind) : null,
    [input, packId, packKind],
  );
  // What is active: the current input's features light up in the galaxy.
  useActiveFeatures(packId, currentInput);
  useEffect(() => {
    dialStore.clear();
  }, [packId]);
  const run = useSteerRun(runtime.info ? packId : null, runtime.info ? currentInput : null);

  useEffect(() => {
    if (health.result && packs.result) document.body.dataset.orreryReady = 'true';
  }, [health.result, packs.result]);

  return (
    <div className="app">
      <TopBar
        packs={list?.packs ?? []}
        selectedId={pack?.id ?? null}
        onSelect={setSelectedId}
        onImport={() => setImporting(true)}
        searchHint={
          pack
            ? `${pack.name} has no feature index yet: nothing to search.`
            : 'Open a pack to search its features.'
        }
      />
      <GalaxyArea list={list} pack={pack} onImport={() => setImporting(true)} />
      <SidePanel
        card={
          <FeatureCardPanel
            onTurn={(d) =>
              dialStore.add({
                saeId: d.saeId,
                feature: d.feature,
                label: d.label,
                maxActivation: d.maxActivation,
              })
            }
          />
        }
        health={<HealthPanel result={health.result} onRefresh={health.reload} />}
        dials={<DialsPanel info={runtime.info} />}
      />
      <CompareStrip
        info={runtime.info}
        infoError={runtime.error}
        input={currentInput}
        onInput={(value) => pack && setInput({ packId: pack.id, value })}
        run={run}
      />
      {packs.result && !packs.result.ok && (
        <p className="error-text" role="alert">
          {packs.result.error.message}
        </p>
      )}
      {importing && (
        <ImportDialog
          onClose={() => setImporting(false)}
          onImported={(id) => {
            setImporting(false);
            setSelectedId(id);
            packs.reload();
          }}
        />
      )}
    </div>
  );
}
