/**
 * `npm run orrery -- <area> …`: Orrery's command line, usable without the app.
 *   npm run orrery -- index build models/text-fortunes [--sae id] [--out file]
 *   npm run orrery -- index search <index file> <words…>
 *   npm run orrery -- index import-neuronpedia <index file> <export folder|feature.json|labels> [--sae id]
 *   npm run orrery -- index export-neuronpedia <index file> <out folder> [--features 1,2,3]
 *   npm run orrery -- index export-map <index file> <out.csv>
 *   npm run orrery -- add-sae <pack id> <sae dir> [<sae dir> …]   (main/library/addSaeCli.ts)
 *   npm run orrery -- bridge build <side A> <side B> [--corpus folder]   (main/bridge/cli.ts)
 *   npm run orrery -- bridge export <bridge file> <out.csv|out.json>
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const areas: Record<string, string> = {
  index: path.join(__dirname, '..', 'index', 'cli.ts'),
  open: path.join(__dirname, '..', 'library', 'cli.ts'),
  'add-sae': path.join(__dirname, '..', 'library', 'addSaeCli.ts'),
  bridge: path.join(__dirname, '..', 'bridge', 'cli.ts'),
};

const [area, ...rest] = process.argv.slice(2);
const script = area ? areas[area] : undefined;
if (!script) {
  console.error(`usage: npm run orrery -- <${Object.keys(areas).join('|')}> …`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
