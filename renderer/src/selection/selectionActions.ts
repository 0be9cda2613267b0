/**
 * Selections as named actions (STYLE item 7), shared by the selection panel, the galaxy's
 * lasso, cluster labels and search, and the tests: open a selection, turn its top features
 * into dials or into one composite dial, save, export, reopen a saved one, and "more like
 * these" (the features that separate chosen examples become a selection and a dial).
 */
import type { CompositeMember, SavedSelection, SelectionInput } from '../../../preload/contract';
import { type NoPayload, runAction, registerActions } from '../actions/registry';
import { getClient } from '../api/client';
import { galaxyStore } from '../galaxy/store';
import { download } from '../session/download';
import { dialStore, type DialState } from '../steer/store';
import { exportRows, fileStem, selectionCsv, selectionJson } from './exportSelection';
import { selectionStore, type SelectionOrigin } from './selectionStore';

declare module '../actions/registry' {
  interface ActionPayloads {
    /** Features to show; the SAE defaults to the galaxy's, the origin to a lasso. */
    'open-selection': {
      features: readonly number[];
      origin?: SelectionOrigin;
      note?: string;
      saeId?: string;
    };
    'close-selection': NoPayload;
    /** `titles`: the features' titles as the panel shows them (dial names). */
    'selection-to-dials': { n: number; titles?: Record<number, string> };
    'selection-to-composite': { n: number };
    'save-selection': { name: string };
    'open-saved-selection': SavedSelection;
    'remove-saved-selection': { name: string };
    'export-selection': { format: 'json' | 'csv'; titles?: Record<number, string> };
    'show-more-like': { on: boolean };
    /** Examples to like (and to move away from); `dial` also makes the composite dial. */
    'more-like-these': {
      like: readonly SelectionInput[];
      away?: readonly SelectionInput[];
      dial?: boolean;
      label?: string;
      top?: number;
      saeId?: string;
    };
  }
}

interface Context {
  packId: string | null;
  /** the SAE a selection without one belongs to: the galaxy's, else the pack's first */
  saeId: string | null;
}

const titlesOf = (titles: Record<number, string> = {}): Map<number, string> =>
  new Map(Object.entries(titles).map(([k, v]) => [Number(k), v]));

/**
 * Adds a composite dial from members; its typical strength sets its travel (Dial.tsx). When
 * a composite dial of the same features is there already, its member weights are updated
 * instead (the weights were edited).
 */
function addComposite(
  saeId: string,
  members: CompositeMember[],
  typical: number,
  label: string,
): Promise<boolean> {
  const same = (d: DialState): boolean =>
    d.saeId === saeId &&
    d.members !== null &&
    d.members.length === members.length &&
    d.members.every((m, i) => m.feature === members[i]?.feature);
  const existing = dialStore.get().find(same);
  if (existing) {
    return runAction('turn-dial', {
      saeId,
      feature: existing.feature,
      key: existing.key,
      members,
    });
  }
  const heaviest = members.reduce((a, b) => (Math.abs(b.weight) > Math.abs(a.weight) ? b : a));
  return runAction('add-dial', {
    saeId,
    feature: heaviest.feature,
    label,
    members,
    // the Dial reads half the max activation as 1× when nothing is calibrated
    maxActivation: typical > 0 ? typical * 2 : null,
  });
}

export function registerSelectionActions(context: () => Context): () => void {
  return registerActions([
    {
      name: 'open-selection',
      label: 'Show a selection of features',
      perform: (q) => {
        const { packId, saeId } = context();
        const sae = q.saeId ?? galaxyStore.saeId ?? saeId;
        if (!packId || !sae || q.features.length === 0) return;
        selectionStore.open({
          packId,
          saeId: sae,
          features: [...q.features],
          origin: q.origin ?? 'lasso',
          note: q.note ?? '',
        });
      },
    },
    {
      name: 'close-selection',
      label: 'Close the selection',
      perform: () => selectionStore.close(),
    },
    {
      name: 'selection-to-dials',
      label: 'Turn the top features into dials',
      enabled: () => selectionStore.get() !== null,
      perform: async ({ n, titles: named }) => {
        const sel = selectionStore.get();
        if (!sel || !Number.isInteger(n) || n < 1) return;
        const titles = titlesOf(named);
        for (const m of selectionStore.topMembers(n)) {
          await runAction('add-dial', {
            saeId: sel.saeId,
            feature: m.feature,
            label: titles.get(m.feature) || `feature ${m.feature}`,
          });
        }
      },
    },
    {
      name: 'selection-to-composite',
      label: 'One dial from the selection',
      enabled: () => selectionStore.get() !== null,
      perform: async ({ n }) => {
        const sel = selectionStore.get();
        if (!sel || !Number.isInteger(n) || n < 1) return;
        const members = selectionStore.topMembers(n);
        if (members.length === 0) return;
        // typical strength: the origin's (more like these), else the members' mean strongest
        // activation on the current input, else 1
        const ranked = new Map(selectionStore.getRanked().map((r) => [r.feature, r.max]));
        const active = members.map((m) => ranked.get(m.feature) ?? 0).filter((v) => v > 0);
        const typical =
          sel.typical ?? (active.length ? active.reduce((a, b) => a + b, 0) / active.length : 1);
        const label = sel.name ?? `${members.length} ${sel.origin} features`;
        await addComposite(sel.saeId, members, typical, label);
      },
    },
    {
      name: 'save-selection',
      label: 'Save the selection',
      enabled: () => selectionStore.get() !== null,
      perform: async (p) => {
        const sel = selectionStore.get();
        const name = p.name.trim();
        if (!sel || !name) return;
        const weighted = [...sel.weights.entries()].map(([feature, weight]) => ({
          feature,
          weight,
        }));
        const r = await getClient().call('selection.save', {
          packId: sel.packId,
          saeId: sel.saeId,
          name,
          features: sel.features,
          ...(weighted.length > 0 ? { members: weighted } : {}),
          origin: sel.origin,
        });
        if (!r.ok) throw new Error(r.error.message);
        selectionStore.rename(name);
        selectionStore.bumpSaved();
      },
    },
    {
      name: 'open-saved-selection',
      label: 'Open a saved selection',
      perform: (s) => {
        selectionStore.open({
          packId: s.packId,
          saeId: s.saeId,
          features: s.features,
          origin: s.origin,
          name: s.name,
          weights: new Map((s.members ?? []).map((m) => [m.feature, m.weight])),
        });
      },
    },
    {
      name: 'remove-saved-selection',
      label: 'Delete a saved selection',
      perform: async ({ name }) => {
        const { packId } = context();
        if (!packId || !name) return;
        await getClient().call('selection.remove', { packId, name });
        selectionStore.bumpSaved();
      },
    },
    {
      name: 'export-selection',
      label: 'Export the selection',
      enabled: () => selectionStore.get() !== null,
      perform: ({ format, titles }) => {
        const sel = selectionStore.get();
        if (!sel) return;
        const rows = exportRows(sel, selectionStore.getRanked(), titlesOf(titles));
        if (format === 'csv') {
          download(`${fileStem(sel)}.csv`, selectionCsv(rows), 'text/csv');
        } else {
          download(`${fileStem(sel)}.json`, selectionJson(sel, rows), 'application/json');
        }
      },
    },
    {
      name: 'show-more-like',
      label: 'More like these…',
      perform: ({ on }) => selectionStore.showLike(on),
    },
    {
      name: 'more-like-these',
      label: 'Find the features that separate chosen examples',
      perform: async (q) => {
        const { packId, saeId: fallback } = context();
        const saeId = q.saeId ?? galaxyStore.saeId ?? fallback;
        const like = [...q.like];
        const away = [...(q.away ?? [])];
        if (!packId || !saeId || like.length === 0) return;
        const r = await getClient().call('selection.separate', {
          packId,
          saeId,
          like,
          away,
          top: q.top ?? 12,
        });
        if (!r.ok) throw new Error(r.error.message);
        const out = r.value;
        if (out.features.length === 0) throw new Error('no feature is stronger on these examples');
        const note =
          `${like.length} liked, ` +
          (out.baseline === 'away'
            ? `${away.length} to move away from`
            : `against ${out.baselineExamples} of the pack's examples`);
        selectionStore.open({
          packId,
          saeId,
          features: out.features.map((f) => f.feature),
          origin: 'like',
          weights: new Map(out.features.map((f) => [f.feature, Number(f.score.toFixed(2))])),
          typical: out.typical,
          note,
        });
        if (q.dial) {
          const members = out.features.map((f) => ({
            feature: f.feature,
            weight: Number(f.score.toFixed(2)),
          }));
          const label = q.label || 'More like these';
          await addComposite(saeId, members, out.typical, label);
        }
      },
    },
  ]);
}
