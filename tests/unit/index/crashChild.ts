// Child process for the crash test: builds an index and prints "chunk N" after each
// committed chunk, so the parent can kill -9 it part-way. Run with `node --import tsx`.
import { buildIndex, openIndex } from '../../../main/index';

async function main(): Promise<void> {
  const [packDir, file, chunk] = process.argv.slice(2);
  if (!packDir || !file) throw new Error('usage: crashChild.ts <pack dir> <db file> <chunk>');
  const db = openIndex(file);
  await buildIndex(db, packDir, {
    chunkExamples: Number(chunk ?? 6),
    commitSeconds: 0,
    onProgress: (p) => {
      if (p.stage === 'activations') process.stdout.write(`chunk ${p.done}\n`);
    },
  });
  db.close();
  process.stdout.write('finished\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
