import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { PackSummary, Step } from '../../preload/contract';
import { firstViewSettled, useSettleFirstView } from './api/firstView';
import { useCall } from './api/useCall';
import { CompareStrip } from './components/CompareStrip';
import { GalaxyArea } from './components/GalaxyArea';
import { HealthPanel } from './components/HealthPanel';
import { ImportDialog } from './components/ImportDialog';
import { OpenModelDialog } from './components/OpenModelDialog';
import { registerDialogActions } from './actions/dialogActions';
import { NoticeBanner } from './components/NoticeBanner';
import { FeatureCardPanel } from './card/FeatureCardPanel';
import { setStripInput } from './card/stripInput';
import { useActiveFeatures } from './galaxy/useActiveFeatures';
import { SidePanel } from './components/SidePanel';
import { TopBar } from './components/TopBar';
import { DialsPanel } from './steer/DialsPanel';
import { defaultInput, type RunInput } from './steer/inputs';
import { stampChange } from './steer/gesture';
import { reopenDials } from './steer/dialList';
import { dialStore } from './steer/store';
import { useRuntimeInfo } from './steer/useRuntimeInfo';
import { useSteerRun } from './steer/useSteerRun';
import { registerAppActions } from './actions/appActions';
import { handleShortcut } from './actions/keyboard';
import { HistoryPanel } from './session/HistoryPanel';
import { registerSelectionActions } from './selection/selectionActions';
import { SelectionPanel } from './selection/SelectionPanel';
import { stepToInput } from './session/stepInput';
import { keepDialList } from './session/keepDialList';
import { registerSessionActions } from './session/sessionActions';
import { sessionState } from './session/sessionState';
import type { SessionDetail } from './session/sessionView';
import { useSession } from './session/useSession';
import { rememberedPack, rememberPack } from './selectedPack';

/** A run's reply carries the step it was saved as: folded into the session shown. */
const addStep = (step: Step | null): void => sessionState.addStep(step);

export function App() {
  // the health check runs a tiny ONNX model: after the first view (api/firstView)
  const health = useCall('app.health', {}, firstViewSettled);
  const packs = useCall('packs.list', {});
  // a pack list that cannot be read leaves no galaxy to wait for
  useSettleFirstView(packs.result?.ok === false);
  const [selectedId, setSelectedId] = useState<string | null>(rememberedPack);
  const [importing, setImporting] = useState(false);
  const [openingModel, setOpeningModel] = useState(false);

  const list = packs.result?.ok ? packs.result.value : null;
  // A model just opened is shown at once, before the pack list has been read again (else the
  // first pack would flash in while the list reloads).
  const [justOpened, setJustOpened] = useState<PackSummary | null>(null);
  const pack = useMemo(() => {
    const opened = justOpened && justOpened.id === selectedId ? justOpened : null;
    if (!list || list.packs.length === 0) return opened;
    return list.packs.find((p) => p.id === selectedId) ?? opened ?? list.packs[0] ?? null;
  }, [list, selectedId, justOpened]);

  useEffect(() => {
    if (pack) rememberPack(pack.id);
  }, [pack]);

  const runtime = useRuntimeInfo(pack?.id ?? null);
  const [input, setInputState] = useState<{ packId: string; value: RunInput } | null>(null);
  // a change of input belongs to the gesture in progress (a paint stroke), if any
  const setInput = useCallback((v: { packId: string; value: RunInput }) => {
    stampChange();
    setInputState(v);
  }, []);
  const packKind = pack?.kind ?? null;
  const packId = pack?.id ?? null;
  const currentInput = useMemo(
    () =>
      input && input.packId === packId ? input.value : packKind ? defaultInput(packKind) : null,
    [input, packId, packKind],
  );
  // What is active: the current input's features light up in the galaxy.
  useActiveFeatures(packId, currentInput);
  // the card's effect strip shows the current input
  useEffect(() => setStripInput(currentInput), [currentInput]);
  useEffect(() => {
    dialStore.clear();
  }, [packId]);
  const notice = useSyncExternalStore(sessionState.subscribe, sessionState.getNotice);
  const [restoredFor, setRestoredFor] = useState<string | null>(null);
  /** The session whose step was put in place last: another one is being (re)opened. */
  const appliedFor = useRef<string | null>(null);
  /**
   * Puts a step's input and dials back in place (undo, redo, a chosen step, a reopened
   * session). A reopened session also brings back its list of dials (keepDialList): dials
   * added and never moved, at rest, and every dial's name.
   */
  const applyStep = useCallback(
    (d: SessionDetail) => {
      const reopened = appliedFor.current !== d.session.id;
      appliedFor.current = d.session.id;
      const head = d.steps.find((s) => s.id === d.session.headStepId);
      const restored = head ? stepToInput(head) : null;
      const dials = (step: Parameters<typeof reopenDials>[1]) =>
        reopened ? reopenDials(d.dials, step) : step;
      if (head && restored && packId) {
        setInput({ packId, value: restored });
        dialStore.restore(dials(head.dials));
      } else if (!head) {
        dialStore.restore(dials([]));
      }
    },
    [packId, setInput],
  );
  // A reopened session continues where it stopped: its current step is restored before any
  // run; undo, redo, a chosen step and an imported recipe restore theirs the same way.
  useEffect(
    () =>
      sessionState.onApply((d) => {
        applyStep(d);
        setRestoredFor(d.session.id);
      }),
    [applyStep],
  );
  const session = useSession(packId);
  useEffect(() => {
    window.addEventListener('keydown', handleShortcut);
    return () => window.removeEventListener('keydown', handleShortcut);
  }, []);
  useEffect(() => registerAppActions(() => ({ packId })), [packId]);
  useEffect(
    () =>
      registerDialogActions({
        openModel: () => setOpeningModel(true),
        importPack: () => setImporting(true),
      }),
    [],
  );
  const firstSae = runtime.info?.saes[0]?.id ?? null;
  useEffect(
    () => registerSelectionActions(() => ({ packId, saeId: firstSae })),
    [packId, firstSae],
  );
  // undo, redo and the other session moves exist whether or not the history is shown
  useEffect(() => registerSessionActions(), []);
  const openedId = session?.session.id ?? null;
  // the session keeps its list of dials, from once its step is in place (after the pack
  // switch's clear above: the session of another pack is never open here)
  useEffect(() => (openedId ? keepDialList(openedId) : undefined), [openedId]);
  const ready = runtime.info !== null && openedId !== null && restoredFor === openedId;
  const run = useSteerRun(ready ? packId : null, ready ? currentInput : null, openedId, addStep);

  useEffect(() => {
    if (health.result && packs.result) document.body.dataset.orreryReady = 'true';
  }, [health.result, packs.result]);

  // Every run re-renders App (its output, its session step): the galaxy, the card, the dials
  // and the health panel are kept as the same elements, so React skips them on a dial tick.
  const openImport = useCallback(() => setImporting(true), []);
  const galaxy = useMemo(
    () => (
      <GalaxyArea list={list} pack={pack} onImport={openImport} onPacksChanged={packs.reload} />
    ),
    [list, pack, openImport, packs.reload],
  );
  const card = useMemo(() => <FeatureCardPanel />, []);
  const healthPanel = useMemo(
    () => <HealthPanel result={health.result} onRefresh={health.reload} />,
    [health.result, health.reload],
  );
  const dials = useMemo(() => <DialsPanel info={runtime.info} />, [runtime.info]);

  return (
    <div className="app">
      <TopBar
        packs={
          pack && list && !list.packs.some((p) => p.id === pack.id)
            ? [...list.packs, pack]
            : (list?.packs ?? [])
        }
        selectedId={pack?.id ?? null}
        onSelect={setSelectedId}
        onImport={() => setImporting(true)}
        searchHint={
          pack
            ? `${pack.name} has no feature index yet: nothing to search.`
            : 'Open a pack to search its features.'
        }
      />
      {galaxy}
      <SelectionPanel packId={packId} info={runtime.info} input={currentInput} />
      <SidePanel
        card={card}
        health={healthPanel}
        dials={dials}
        history={
          packId && runtime.info ? <HistoryPanel packId={packId} detail={session} /> : undefined
        }
      />
      <CompareStrip
        info={runtime.info}
        infoError={runtime.error}
        input={currentInput}
        onInput={(value) => pack && setInput({ packId: pack.id, value })}
        run={run}
        spatial={pack?.spatial ?? null}
      />
      <NoticeBanner />
      {notice && (
        <div
          className={`toast toast-${notice.tone}`}
          role={notice.tone === 'error' ? 'alert' : 'status'}
          data-testid="session-notice"
        >
          {notice.text}
          <button type="button" aria-label="Dismiss" onClick={() => sessionState.dismiss()}>
            ×
          </button>
        </div>
      )}
      {packs.result && !packs.result.ok && (
        <p className="error-text" role="alert">
          {packs.result.error.message}
        </p>
      )}
      {openingModel && (
        <OpenModelDialog
          onClose={() => setOpeningModel(false)}
          onOpened={(opened) => {
            setOpeningModel(false);
            setJustOpened(opened);
            setSelectedId(opened.id);
            packs.reload();
          }}
        />
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
