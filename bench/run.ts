/**
 * `npm run bench`: every benchmark in one run, printing figures and ratios. Speed and
 * memory targets live here, not in timed tests. Sections whose code is absent are named.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { benchRuntime } from './runtime';

type Section = { name: string; file: string; fn: string };

const sections: Section[] = [
  { name: 'feature index', file: 'index.ts', fn: 'benchIndex' },
  { name: 'layout at scale (1M)', file: 'scaleLayout.ts', fn: 'benchScaleLayout' },
  { name: 'search at scale (1M)', file: 'fts.ts', fn: 'benchFts' },
  { name: 'galaxy', file: 'galaxy.ts', fn: 'benchGalaxy' },
  { name: 'galaxy cold start', file: 'coldStart.ts', fn: 'benchColdStart' },
  { name: 'map positions to the galaxy (1M)', file: 'mapTransfer.ts', fn: 'benchMapTransfer' },
  { name: 'open 1M SAE to the galaxy (1M)', file: 'open1m.ts', fn: 'benchOpen1m' },
  { name: 'dial to image', file: 'dialLatency.ts', fn: 'benchDialLatency' },
  { name: 'dial to text', file: 'textDialLatency.ts', fn: 'benchTextDialLatency' },
  { name: 'zip bomb', file: 'zipBomb.ts', fn: 'benchZipBomb' },
  { name: 'neuronpedia import', file: 'neuronpedia.ts', fn: 'benchNeuronpedia' },
  { name: 'bridge build', file: 'bridge.ts', fn: 'benchBridge' },
  { name: 'carry across models', file: 'bridgeLayer/carryModels.ts', fn: 'benchCarryModels' },
  { name: 'graph surgery', file: 'surgery.ts', fn: 'benchSurgery' },
  { name: 'hf engine', file: 'hfEngine.ts', fn: 'benchHfEngine' },
  { name: 'map structure', file: 'mapStructure.ts', fn: 'benchMapStructure' },
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const want = (name: string): boolean => only.length === 0 || only.some((o) => name.includes(o));
  if (want('runtime')) await benchRuntime();
  for (const s of sections) {
    if (!want(s.name)) continue;
    const file = path.join(__dirname, s.file);
    if (!existsSync(file)) {
      console.log(
        `\n== ${s.name}: no benchmark yet (${path.relative(process.cwd(), file)} is missing)`,
      );
      continue;
    }
    const mod = (await import(file)) as Record<string, () => Promise<void>>;
    const fn = mod[s.fn];
    if (typeof fn !== 'function') throw new Error(`${s.file} does not export ${s.fn}()`);
    await fn();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
