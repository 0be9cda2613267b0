/**
 * `npx tsx bench/zipBomb.ts`: imports a 1 MB zip that inflates to 1 GiB through the real pack
 * service (as `packs.import` does) and prints how long the refusal took and how far RSS grew,
 * for an honest bomb (sizes declared: refused from the central directory) and a lying one
 * (declared small: stopped while inflating). Targets (issue 13): seconds, RSS < +100 MB.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JobRegistry } from '../main/api/jobs';
import { PackService } from '../main/packs/packService';
import { stored, writeZip, zeroBomb } from '../tests/support/zipBomb';

async function one(label: string, lying: boolean): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orrery-bench-zip-'));
  try {
    const pack = path.join(__dirname, '..', 'tests', 'fixtures', 'packs', 'text-tiny');
    const files = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(path.join(d, e.name)) : [path.join(d, e.name)],
      );
    // The whole fixture pack (manifest first), its model.onnx a 1 GiB deflate bomb.
    const rest = files(pack)
      .filter((f) => !f.endsWith('model.onnx'))
      .sort((a, b) => Number(b.endsWith('manifest.json')) - Number(a.endsWith('manifest.json')))
      .map((f) => stored(`text-tiny/${path.relative(pack, f)}`, readFileSync(f)));
    const bomb = zeroBomb('text-tiny/model.onnx', 1024);
    const zip = path.join(dir, 'bomb.zip');
    writeFileSync(zip, writeZip([...rest, lying ? { ...bomb, size: 1 << 20 } : bomb]));
    const packs = new PackService({
      bundled: path.join(dir, 'models'),
      library: path.join(dir, 'lib'),
    });
    const { ctx, finish } = new JobRegistry(() => undefined).start(null);
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const t0 = performance.now();
    let outcome = 'accepted (!)';
    try {
      await packs.import(zip, ctx);
    } catch (e) {
      outcome = `${(e as { code?: string }).code ?? 'error'}: ${(e as Error).message.slice(0, 110)}…`;
    }
    const ms = performance.now() - t0;
    clearInterval(timer);
    finish();
    peak = Math.max(peak, process.memoryUsage().rss);
    console.log(
      `${label.padEnd(34)} ${(readFileSync(zip).length / 1e6).toFixed(2)} MB zip → 1 GiB: ` +
        `${ms.toFixed(0)} ms, peak RSS +${((peak - rss0) / 1e6).toFixed(1)} MB\n    ${outcome}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchZipBomb(): Promise<void> {
  console.log('\n== zip bomb import');
  await one('honest sizes (central directory)', false);
  await one('lying sizes (stopped inflating)', true);
}

if (require.main === module) {
  benchZipBomb().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
