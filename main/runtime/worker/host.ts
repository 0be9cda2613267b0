/**
 * The inference worker: owns every loaded pack's engine (ONNX sessions, SAEs) and answers
 * the request union. Runs in a worker thread so inference and SAE math never block the
 * thread that answers the API.
 */
import { parentPort } from 'node:worker_threads';
import { OrreryError, type ErrorCode } from '../../../preload/contract';
import { readPack } from '../../packs/packReader';
import type { AnyEngine, EngineContext } from '../engine';
import { loadEngine } from '../engines';
import '../registerEngines';
import { featureActivations, separateFeatures } from '../selections';
import type { WorkerRequest, WorkerResponse } from './protocol';

const engines = new Map<string, Promise<AnyEngine>>();
const running = new Map<number, AbortController>();

/** Calls running other than drag sweeps, and the sweeps waiting for them to finish. */
let others = 0;
const waiting: (() => void)[] = [];
function othersDone(): Promise<void> {
  return others === 0 ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve));
}

function send(message: WorkerResponse): void {
  parentPort?.postMessage(message);
}

async function engineFor(packDir: string): Promise<AnyEngine> {
  let e = engines.get(packDir);
  if (!e) {
    e = (async () => {
      const r = await readPack(packDir);
      if (!r.ok) throw new OrreryError('bad_pack', `${r.problem.file}: ${r.problem.message}`);
      return loadEngine(r.pack);
    })();
    engines.set(packDir, e);
    e.catch(() => engines.delete(packDir));
  }
  return e;
}

function kindError(engine: AnyEngine, op: string): never {
  throw new OrreryError('bad_input', `${op} does not apply to a ${engine.kind} pack`);
}

async function perform(
  req: Extract<WorkerRequest, { type: 'call' }>,
  ctx: EngineContext,
): Promise<unknown> {
  const engine = await engineFor(req.packDir);
  if (ctx.signal.aborted) throw new OrreryError('cancelled', 'superseded by a newer request');
  const input = req.input as never;
  switch (req.op) {
    case 'open':
      return engine.info();
    case 'text.generate':
      return engine.kind === 'text-lm' ? engine.generate(input, ctx) : kindError(engine, req.op);
    case 'text.active':
      return engine.kind === 'text-lm' ? engine.active(input, ctx) : kindError(engine, req.op);
    case 'image.steer':
      return engine.kind === 'image-vae' ? engine.steer(input, ctx) : kindError(engine, req.op);
    case 'image.sweep':
      return engine.kind === 'image-vae' ? engine.sweep(input, ctx) : kindError(engine, req.op);
    case 'image.active':
      return engine.kind === 'image-vae' ? engine.active(input, ctx) : kindError(engine, req.op);
    case 'glyph.specimen':
      return engine.kind === 'glyph-cvae' ? engine.specimen(input, ctx) : kindError(engine, req.op);
    case 'features.activations':
      return featureActivations(engine, input, ctx);
    case 'features.separate':
      return separateFeatures(engine, input, ctx);
  }
}

function toError(id: number, e: unknown): WorkerResponse {
  if (e instanceof OrreryError) return { type: 'error', id, code: e.code, message: e.message };
  const name = e instanceof Error ? e.name : '';
  const message = e instanceof Error ? e.message : String(e);
  // Errors from the SAE and steering modules are about the caller's input.
  const code: ErrorCode = /Steering|SaeConfig|SaeLoad|Safetensors/.test(name)
    ? 'bad_input'
    : 'internal';
  return { type: 'error', id, code, message };
}

parentPort?.on('message', (req: WorkerRequest) => {
  if (req.type === 'cancel') {
    running.get(req.id)?.abort();
    return;
  }
  if (req.type === 'unload') {
    const e = engines.get(req.packDir);
    engines.delete(req.packDir);
    void (e ? e.then((x) => x.dispose()).catch(() => undefined) : Promise.resolve()).then(() =>
      send({ type: 'done', id: req.id, value: null }),
    );
    return;
  }
  const controller = new AbortController();
  running.set(req.id, controller);
  const other = req.op !== 'image.sweep';
  if (other) others += 1;
  const ctx: EngineContext = {
    signal: controller.signal,
    token: (row, index, tokenId, text) =>
      send({ type: 'token', id: req.id, row, index, tokenId, text }),
    progress: (stage, done, total) => send({ type: 'progress', id: req.id, stage, done, total }),
    frames: (batch) => send({ type: 'frames', id: req.id, batch }),
    othersDone,
    blobFile: (hash) => {
      const file = req.blobs?.[hash];
      if (file === undefined)
        throw new OrreryError('not_found', `no uploaded file has hash ${hash.slice(0, 12)}…`);
      return file;
    },
  };
  perform(req, ctx)
    .then((value) => send({ type: 'done', id: req.id, value }))
    .catch((e: unknown) => send(toError(req.id, e)))
    .finally(() => {
      running.delete(req.id);
      if (!other) return;
      others -= 1;
      if (others === 0) for (const go of waiting.splice(0)) go();
    });
});
