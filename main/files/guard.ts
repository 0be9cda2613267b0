/**
 * Every path a call carries goes through the path policy before its handler runs: this table
 * names, per call, the fields that hold a path (or a list of paths) and what each is for. A test
 * walks the contract and fails when a call gains a PathSchema field that is not here, so no path
 * slips past.
 */
import type { CallName, PathUse } from '../../preload/contract';
import type { Handler, Handlers } from '../api/dispatcher';
import type { PathPolicy } from './pathPolicy';

type Use = PathUse | 'browse';

const CORPUS = { corpus: 'corpus' } as const;
const MODEL = { dir: 'model', saes: 'model', neuronpedia: 'model', examples: 'model' } as const;

export const pathFields = {
  'packs.import': { from: 'pack' },
  'index.status': CORPUS,
  'index.build': CORPUS,
  'index.map': CORPUS,
  'index.search': CORPUS,
  'index.feature': CORPUS,
  'index.titles': CORPUS,
  'index.rename': CORPUS,
  'index.importLabels': { ...CORPUS, from: 'labels' },
  'index.importDashboards': { ...CORPUS, from: 'model' },
  'index.exportNeuronpedia': CORPUS,
  'index.exportMap': CORPUS,
  'models.inspect': MODEL,
  'models.open': MODEL,
  'models.addSae': { saes: 'model' },
  'files.list': { dir: 'browse' },
} as const satisfies Partial<Record<CallName, Record<string, Use>>>;

/** The handlers, each path field checked (and replaced by its resolved path) first. */
export function guardPaths(handlers: Handlers, policy: PathPolicy): Handlers {
  const guarded: Record<string, Handler<CallName>> = { ...handlers };
  for (const [call, fields] of Object.entries(pathFields)) {
    const inner = handlers[call as CallName] as Handler<CallName>;
    guarded[call] = (input, job) => {
      const checked: Record<string, unknown> = { ...(input as Record<string, unknown>) };
      for (const [field, use] of Object.entries(fields as Record<string, Use>)) {
        const p = checked[field];
        if (Array.isArray(p))
          checked[field] = p.map((one: unknown) => policy.check(one as string, use));
        else if (p !== undefined) checked[field] = policy.check(p as string, use);
      }
      return inner(checked as never, job);
    };
  }
  return guarded as Handlers;
}
