/**
 * The session's operations as named actions, registered by the app whether or not the history
 * panel is shown: undo and redo (enabled only when there is somewhere to go), go to a step,
 * export the current step or the session as a recipe, import a recipe (a notice says what it
 * restored), name a step. Each move hands the new session to `sessionState.apply`.
 */
import type { CallName } from '../../../preload/contract';
import { type NoPayload, mod, registerActions } from '../actions/registry';
import { getClient } from '../api/client';
import { base64Bytes, download } from './download';
import { sessionState } from './sessionState';
import { canRedo, canUndo, headOf, withName, type SessionDetail } from './sessionView';

type Move = Extract<CallName, 'sessions.undo' | 'sessions.redo'>;

declare module '../actions/registry' {
  interface ActionPayloads {
    undo: NoPayload;
    redo: NoPayload;
    'checkout-step': { stepId: number };
    'rename-step': { stepId: number; name: string };
    'export-recipe': NoPayload;
    'export-step': NoPayload;
    'import-recipe': { file: File };
  }
}

async function move(call: Move): Promise<void> {
  const d = sessionState.get();
  if (!d) return;
  const r = await getClient().call(call, { sessionId: d.session.id });
  if (r.ok) sessionState.apply(r.value);
  else sessionState.say(r.error.message, 'error');
}

async function exportStep(): Promise<void> {
  const head = headOf(sessionState.get());
  if (!head) return;
  const out = head.output as {
    afterBlob?: string;
    afterPng?: string;
    after?: { text?: string };
    before?: { text?: string };
  };
  if (typeof out.afterBlob === 'string') {
    // the step keeps its PNG as a blob, by hash
    const r = await getClient().call('blobs.get', { hash: out.afterBlob });
    if (r.ok) download(`orrery-step-${head.id}.png`, r.value.bytes.slice(), 'image/png');
    else sessionState.say(r.error.message, 'error');
  } else if (typeof out.afterPng === 'string')
    // a step saved before outputs were blobs
    download(`orrery-step-${head.id}.png`, base64Bytes(out.afterPng), 'image/png');
  else if (head.kind !== 'text')
    sessionState.say('this step has no saved image; run it again', 'error');
  else {
    const prompt = String((head.input as { prompt?: unknown }).prompt ?? '');
    const text = `${prompt}${out.after?.text ?? ''}\n\n-- before --\n${prompt}${out.before?.text ?? ''}\n`;
    download(`orrery-step-${head.id}.txt`, text, 'text/plain');
  }
}

/** What an imported recipe restored, in words. */
export function restoredWords(d: SessionDetail): string {
  const n = d.steps.length;
  const head = headOf(d);
  const dials = head?.dials.length ?? 0;
  return (
    `Imported “${d.session.name}”: ${n} step${n === 1 ? '' : 's'}` +
    (head ? `, at a step with ${dials} dial${dials === 1 ? '' : 's'}` : '')
  );
}

export function registerSessionActions(): () => void {
  return registerActions([
    {
      name: 'undo',
      label: 'Undo',
      shortcut: (e) => mod(e) && !e.shiftKey && e.key.toLowerCase() === 'z',
      enabled: () => canUndo(sessionState.get()),
      perform: () => move('sessions.undo'),
    },
    {
      name: 'redo',
      label: 'Redo',
      shortcut: (e) =>
        mod(e) && ((e.shiftKey && e.key.toLowerCase() === 'z') || e.key.toLowerCase() === 'y'),
      enabled: () => canRedo(sessionState.get()),
      perform: () => move('sessions.redo'),
    },
    {
      name: 'checkout-step',
      label: 'Go to a step',
      perform: async ({ stepId }) => {
        const d = sessionState.get();
        if (!d) return;
        const r = await getClient().call('sessions.checkout', { sessionId: d.session.id, stepId });
        if (r.ok) sessionState.apply(r.value);
        else sessionState.say(r.error.message, 'error');
      },
    },
    {
      name: 'rename-step',
      label: 'Name a step',
      perform: async ({ stepId, name }) => {
        const d = sessionState.get();
        if (!d) return;
        const r = await getClient().call('sessions.renameStep', {
          sessionId: d.session.id,
          stepId,
          name: name.slice(0, 200),
        });
        const now = sessionState.get();
        if (!r.ok) sessionState.say(r.error.message, 'error');
        else if (now?.session.id === d.session.id) sessionState.set(withName(now, r.value));
      },
    },
    {
      name: 'export-recipe',
      label: 'Export recipe',
      enabled: () => sessionState.get() !== null,
      perform: async () => {
        const d = sessionState.get();
        if (!d) return;
        const r = await getClient().call('sessions.exportRecipe', { sessionId: d.session.id });
        if (r.ok)
          download(
            `${r.value.name.replace(/[^\w.-]+/g, '_')}.orrery.json`,
            JSON.stringify(r.value, null, 2),
            'application/json',
          );
        else sessionState.say(r.error.message, 'error');
      },
    },
    {
      name: 'export-step',
      label: 'Export step',
      enabled: () => headOf(sessionState.get()) !== null,
      perform: exportStep,
    },
    {
      name: 'import-recipe',
      label: 'Import a recipe',
      perform: async ({ file }) => {
        let recipe: unknown;
        try {
          recipe = JSON.parse(await file.text());
        } catch {
          sessionState.say(`${file.name} is not JSON`, 'error');
          return;
        }
        const r = await getClient().call('sessions.importRecipe', { recipe });
        if (!r.ok) return sessionState.say(`${file.name}: ${r.error.message}`, 'error');
        sessionState.apply(r.value);
        sessionState.say(restoredWords(r.value), 'done');
      },
    },
  ]);
}
