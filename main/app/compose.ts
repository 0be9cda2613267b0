/**
 * The composition root: the one place that constructs services and wires them to the API.
 * Both entries (Electron and headless) call composeApp and attach a transport.
 */
import path from 'node:path';
import { Dispatcher, type Handlers } from '../api/dispatcher';
import { BridgeService } from '../services/bridgeService';
import { CarryService } from '../services/carryService';
import { ChainService } from '../services/chainService';
import { JobRegistry } from '../api/jobs';
import { FileService, type Chooser } from '../files/fileService';
import { guardPaths } from '../files/guard';
import { PathPolicy } from '../files/pathPolicy';
import { BlobStore } from '../blobs/blobStore';
import { BlobCollector } from '../blobs/collect';
import { ModelService } from '../library/modelService';
import { PackService } from '../packs/packService';
import { RuntimeWorker } from '../runtime/worker/client';
import { checkRecipe } from '../sessions/recipeCheck';
import { SessionsClient } from '../sessions/client';
import { HealthService } from '../services/healthService';
import { IndexService } from '../services/indexService';
import { RuntimeService } from '../services/runtimeService';
import { ExportService } from '../exports/exportService';
import type { AppConfig } from './config';
import type { EarlyWorker } from './earlyWorker';
import { EventHub } from './events';
import { NoticeBoard } from './notices';

export interface OrreryApp {
  config: AppConfig;
  dispatcher: Dispatcher;
  events: EventHub;
  dispose(): Promise<void>;
}

/** Start-up's blob collection waits this long, so it never competes with the first calls. */
const BLOB_COLLECT_DELAY_MS = 30_000;

/** What only one entry can give: the desktop's system file dialog. */
export interface ComposeOptions {
  chooser?: Chooser;
  /**
   * Ready the first view's index now (the app's entries): a reader thread started, the index
   * the galaxy will most likely open seeded and checked (IndexService.warmFirstView).
   */
  warmReaders?: boolean;
  /** An index reader thread started before composing (the server's), to be the first reader. */
  earlyReader?: EarlyWorker;
}

export function composeApp(config: AppConfig, options: ComposeOptions = {}): OrreryApp {
  const events = new EventHub();
  const jobs = new JobRegistry((p) => events.emit('job.progress', p));
  const health = new HealthService({ version: config.version, mode: config.mode });
  const packs = new PackService({ bundled: config.bundledPacks, library: config.libraryDir });
  const worker = new RuntimeWorker(config.workers.runtime);
  const notices = new NoticeBoard();
  notices.subscribe((n) => events.emit('app.notice', n));
  // The sessions database lives in its own thread; a write's reply comes after its commit.
  const sessions = new SessionsClient(
    config.workers.sessions,
    path.join(config.dataDir, 'sessions.sqlite'),
    (r) => notices.databaseRecovered(r, 'The sessions database'),
  );
  const blobs = new BlobStore(path.join(config.dataDir, 'blobs'));
  // Blobs no step names and not used for a day go: soon after start, off every call's path.
  const collector = new BlobCollector(blobs, () => sessions.blobHashes());
  collector.startLater(BLOB_COLLECT_DELAY_MS, (r) => {
    if (r instanceof Error) console.warn('[orrery] collecting unused blobs failed:', r.message);
    else if (r.removed > 0)
      console.info(`[orrery] freed ${r.freedBytes} bytes: ${r.removed} unused blobs removed`);
  });
  const runtime = new RuntimeService(worker, packs, events, sessions, blobs, (id, text) =>
    notices.modelWarning(id, text),
  );
  const exporter = new ExportService(runtime);
  const index = new IndexService(packs, path.join(config.dataDir, 'index'), config.workers, (r) =>
    notices.databaseRecovered(r, `The feature index ${path.basename(r.file)}`),
  );
  const early = options.earlyReader?.take();
  if (early && !index.readers.adopt(early)) void early.terminate();
  if (options.warmReaders) void index.warmFirstView();

  const bridges = new BridgeService(
    packs,
    path.join(config.dataDir, 'index'),
    config.workers.index,
  );
  const carry = new CarryService(path.join(config.dataDir, 'index'), async (p, s, feature) => {
    const card = await index.feature({ packId: p, saeId: s, feature });
    return {
      maxAct: card.maxActivation,
      typical: card.calibration?.typical ?? null,
      label: card.label,
    };
  });
  const chain = new ChainService(
    packs,
    path.join(config.dataDir, 'index'),
    async (p, s, feature) => (await index.feature({ packId: p, saeId: s, feature })).label,
  );

  // The page names paths only below these roots or a path the person picked (a grant).
  const policy = new PathPolicy({
    roots: [...config.allow, config.bundledPacks, config.libraryDir],
    grantsFile: path.join(config.dataDir, 'grants.json'),
  });
  const files = new FileService(policy, options.chooser ?? null);

  const models = new ModelService(
    packs,
    {
      build: async (packId, saeId, job) => (await index.build({ packId, saeId }, job)).features,
      importDashboards: async (packId, saeId, dir, job) =>
        (await index.indexFromDashboards(packId, saeId, dir, job)).features,
    },
    config.libraryDir,
    (packDir) => worker.unload(packDir),
  );

  const handlers: Handlers = {
    'app.health': () => health.health(),
    // after the sessions worker has opened (and, if need be, recovered) its database
    'app.notices': async () => {
      await sessions.ready();
      return { notices: notices.list() };
    },
    'packs.list': () => packs.list(),
    'packs.import': (input, job) => packs.import(input.from, job),
    'packs.remove': async (input) => ({ removed: await packs.remove(input.id) }),
    'models.inspect': (input) => models.inspect(input),
    'models.open': (input, job) => models.open(input, job),
    'models.addSae': (input, job) => models.addSae(input, job),
    'blobs.put': (input) => blobs.put(input.bytes),
    'blobs.get': (input) => ({ bytes: blobs.read(input.hash) }),
    'blobs.collect': () => collector.collect(),
    'runtime.open': (input) => runtime.open(input.packId),
    'text.generate': (input, job) => runtime.textGenerate(input, job),
    'text.active': (input, job) => runtime.textActive(input, job),
    'image.steer': (input, job) => runtime.imageSteer(input, job),
    'image.sweep': (input, job) => runtime.imageSweep(input, job),
    'image.active': (input, job) => runtime.imageActive(input, job),
    'glyph.specimen': (input, job) => runtime.glyphSpecimen(input, job),
    'runtime.effectStrip': (input, job) => runtime.effectStrip(input, job),
    'selection.activations': (input, job) => runtime.featureActivations(input, job),
    'selection.separate': (input, job) => runtime.separateFeatures(input, job),
    'selection.save': (input) =>
      sessions.saveSelection({
        packId: input.packId,
        saeId: input.saeId,
        name: input.name,
        features: input.features,
        members: input.members ?? null,
        origin: input.origin,
      }),
    'selection.list': (input) => sessions.listSelections(input.packId),
    'selection.remove': async (input) => ({
      removed: await sessions.removeSelection(input.packId, input.name),
    }),
    'export.image': (input) => exporter.image(input),
    'export.sweep': (input, job) => exporter.sweep(input, job),
    'export.text': (input) => exporter.text(input),
    'index.corpora': (input) => index.corpora(input),
    'index.status': (input) => index.status(input),
    'index.build': (input, job) => index.build(input, job),
    'bridge.status': (input) => bridges.status(input),
    'bridge.build': (input, job) => bridges.build(input, job),
    'bridge.matches': (input) => bridges.matches(input),
    'bridge.carry': (input) => carry.carry(input),
    'bridge.chain': (input) => chain.chain(input),
    'bridge.best': (input) => bridges.best(input),
    'index.map': (input) => index.map(input),
    'index.search': (input) => index.search(input),
    'index.feature': (input) => index.feature(input),
    'index.titles': (input) => index.titles(input),
    'index.rename': (input) => index.rename(input),
    'index.importLabels': (input, job) => index.importLabels(input, job),
    'index.importDashboards': (input, job) => index.importDashboards(input, job),
    'index.exportNeuronpedia': (input, job) => index.exportNeuronpedia(input, job),
    'index.exportMap': (input) => index.exportMap(input),
    'sessions.create': (input) => sessions.create(input.packId, input.name),
    'sessions.list': (input) => sessions.list(input.packId),
    'sessions.get': (input) => sessions.get(input.sessionId),
    'sessions.undo': (input) => sessions.undo(input.sessionId),
    'sessions.redo': (input) => sessions.redo(input.sessionId),
    'sessions.checkout': (input) => sessions.checkout(input.sessionId, input.stepId),
    'sessions.rename': (input) => sessions.rename(input.sessionId, input.name),
    'sessions.renameStep': (input) =>
      sessions.renameStep(input.sessionId, input.stepId, input.name),
    'sessions.setDials': async (input) => ({
      saved: await sessions.setDials(input.sessionId, input.dials),
    }),
    'sessions.remove': async (input) => ({ removed: await sessions.remove(input.sessionId) }),
    'sessions.exportRecipe': (input) => sessions.exportRecipe(input.sessionId),
    'sessions.importRecipe': async (input) =>
      sessions.importRecipe(await checkRecipe(input.recipe, packs)),
    'presets.save': (input) => sessions.savePreset(input.packId, input.name, input.dials),
    'presets.list': (input) => sessions.listPresets(input.packId),
    'presets.remove': async (input) => ({
      removed: await sessions.removePreset(input.packId, input.name),
    }),
    'files.list': (input) => files.list(input.dir),
    'files.choose': (input) => files.choose(input),
    'jobs.cancel': (input) => ({ cancelled: jobs.cancel(input.jobId) }),
  };

  const dispatcher = new Dispatcher(guardPaths(handlers, policy), jobs, {
    slow: (call, ms) => console.warn(`[orrery] slow call ${call}: ${ms.toFixed(0)} ms`),
    error: (call, e) => console.error(`[orrery] ${call} failed`, e),
  });

  return {
    config,
    dispatcher,
    events,
    dispose: async () => {
      jobs.cancelAll();
      await collector.dispose();
      await worker.close();
      await index.close();
      await bridges.close();
      await sessions.close();
    },
  };
}
