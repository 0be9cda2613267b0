// Child process for the kill -9 loop (kill.test.ts): the composed app (real services, real
// SQLite, real workers) on a given home, doing writes through the API's dispatcher as the page
// would, and printing an `ack` line only after a call has returned ok. Two loops run at once:
// session steps (text.generate into a session), the ticks of dial drags (one gesture id: each
// tick updates the same step, and its reply means that tick is committed), renames and presets;
// and an index build over a
// folder of texts, then feature renames in that index. The parent kills it with SIGKILL at
// random points. Run with `node --import tsx`.
//   args: <home> <models> <allow root> <corpus folder> <life>
import { composeApp } from '../../../main/app/compose';
import { findAppRoot, resolveConfig } from '../../../main/app/config';

const [home = '', models = '', allow = '', corpus = '', life = ''] = process.argv.slice(2);
if (!home || !models || !allow || !corpus || !life)
  throw new Error('usage: killChild.ts <home> <models> <allow> <corpus> <life>');

const TEXT = 'orrery-text-tiny';
const SAE = 'res1-64';
const out = (line: string): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const app = composeApp(
    resolveConfig('headless', findAppRoot(__dirname), { home, models, allow: [allow] }),
  );
  const call = async (name: string, input: unknown): Promise<Record<string, unknown>> => {
    const r = await app.dispatcher.dispatch(name, input);
    if (!r.ok) throw new Error(`${name}: ${r.error.code}: ${r.error.message}`);
    return r.value as Record<string, unknown>;
  };
  const session = await call('sessions.create', { packId: TEXT, name: `life ${life}` });
  const sid = String(session.id);
  out(`ack session ${sid}`);

  const sessionsLoop = async (): Promise<void> => {
    for (let i = 0; ; i++) {
      const dials = [{ saeId: SAE, feature: i % 64, method: 'add', value: (i % 7) - 3 }];
      const reply = await call('text.generate', {
        packId: TEXT,
        prompt: `Life ${life}, step ${i}:`,
        dials,
        sampling: { maxTokens: 2 },
        sessionId: sid,
      });
      const step = reply.step as { id: number } | null;
      out(`ack step ${sid} ${step?.id}`);
      if (i % 5 === 3) {
        // a drag: three ticks of one gesture, each acknowledged with the step it updated
        const gesture = `drag-${life}-${i}`;
        for (const value of [0.5, 1.5, 2.5]) {
          out(`try tick ${sid} ${gesture} ${value}`);
          const tick = await call('text.generate', {
            packId: TEXT,
            prompt: `Life ${life}, drag ${i}:`,
            dials: [{ saeId: SAE, feature: i % 64, method: 'add', value }],
            sampling: { maxTokens: 2 },
            sessionId: sid,
            gestureId: gesture,
          });
          out(`ack tick ${sid} ${gesture} ${value} ${(tick.step as { id: number } | null)?.id}`);
        }
      }
      if (i % 3 === 1) {
        const name = `life ${life} name ${i}`;
        out(`try rename ${sid} ${name}`);
        await call('sessions.rename', { sessionId: sid, name });
        out(`ack rename ${sid} ${name}`);
      }
      if (i % 4 === 2) {
        const name = `preset ${life}-${i}`;
        await call('presets.save', { packId: TEXT, name, dials });
        out(`ack preset ${TEXT} ${name}`);
      }
    }
  };

  const indexLoop = async (): Promise<void> => {
    out(`build start ${corpus}`);
    await call('index.build', { packId: TEXT, saeId: SAE, corpus });
    out(`ack build ${corpus}`);
    for (let i = 0; ; i++) {
      const feature = i % 8;
      const label = `label ${life}-${i}`;
      out(`try label ${feature} ${label}`);
      await call('index.rename', { packId: TEXT, saeId: SAE, corpus, feature, label });
      out(`ack label ${feature} ${label}`);
    }
  };

  await Promise.all([sessionsLoop(), indexLoop()]);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
