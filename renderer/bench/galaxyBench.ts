/**
 * The galaxy bench page (built and driven by bench/galaxy.ts in chromium): frame time of the
 * app's star field (the same StarField the galaxy scene renders: geometry, star shader, state
 * attribute) against a bare THREE.Points with PointsMaterial over the same points; the GPU
 * pick; a selection update; and lasso resolution in the real worker.
 */
import {
  BufferGeometry,
  Float32BufferAttribute,
  MathUtils,
  PerspectiveCamera,
  Points,
  PointsMaterial,
  Scene,
  Vector3,
  WebGLRenderer,
} from 'three';
import { LassoResolver } from '../src/galaxy/lassoClient';
import { makeMap, type GalaxyMap } from '../src/galaxy/mapData';
import { starBase } from '../src/galaxy/geometry';
import { StarField } from '../src/galaxy/starField';
import { createGalaxyStore } from '../src/galaxy/store';
import type { GalaxyBenchResult } from './galaxyBenchResult';

declare global {
  interface Window {
    runGalaxyBench?: (n: number, frames: number) => Promise<GalaxyBenchResult>;
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n points in 48 gaussian clusters, log-uniform densities. */
function synthetic(n: number): GalaxyMap {
  const r = rng(7);
  const gauss = (): number =>
    Math.sqrt(-2 * Math.log(Math.max(1e-12, r()))) * Math.cos(2 * Math.PI * r());
  const k = 48;
  const centres = Array.from({ length: k * 3 }, () => gauss() * 6);
  const positions = new Float32Array(n * 3);
  const density = new Float32Array(n);
  const cluster = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    cluster[i] = c;
    for (let d = 0; d < 3; d++) positions[i * 3 + d] = (centres[c * 3 + d] ?? 0) + gauss();
    density[i] = 10 ** (-5 + 5 * r());
  }
  return makeMap(positions, density, cluster);
}

const canvas = document.getElementById('c') as HTMLCanvasElement;
const gl = new WebGLRenderer({ canvas, antialias: true });
gl.setPixelRatio(1);
gl.setSize(1280, 800, false);
const pixel = new Uint8Array(4);

/** Renders `frames` frames with the camera orbiting a little; returns ms per frame (synced). */
function frameTime(
  scene: Scene,
  camera: PerspectiveCamera,
  frames: number,
  before?: () => void,
): number {
  const ctx = gl.getContext();
  const target = new Vector3();
  const radius = camera.position.length();
  gl.render(scene, camera);
  ctx.readPixels(0, 0, 1, 1, ctx.RGBA, ctx.UNSIGNED_BYTE, pixel);
  const t0 = performance.now();
  for (let f = 0; f < frames; f++) {
    const a = (f / frames) * 0.5;
    camera.position.set(Math.sin(a) * radius, radius * 0.2, Math.cos(a) * radius);
    camera.lookAt(target);
    before?.();
    gl.render(scene, camera);
    // Wait for the GPU (SwiftShader) to finish the frame.
    ctx.readPixels(0, 0, 1, 1, ctx.RGBA, ctx.UNSIGNED_BYTE, pixel);
  }
  return (performance.now() - t0) / frames;
}

window.runGalaxyBench = async (n: number, frames: number): Promise<GalaxyBenchResult> => {
  const map = synthetic(n);
  const camera = new PerspectiveCamera(
    50,
    1280 / 800,
    map.bounds.radius * 0.01,
    map.bounds.radius * 40,
  );
  camera.position.set(0, 0, map.bounds.radius * 2.6);
  camera.lookAt(0, 0, 0);

  const store = createGalaxyStore();
  store.load('bench', 'bench', map);
  const field = new StarField(map, store.state);
  field.sync(store);
  const galaxy = new Scene();
  galaxy.add(field.points);

  const bareGeometry = new BufferGeometry();
  bareGeometry.setAttribute('position', new Float32BufferAttribute(map.positions, 3));
  const bare = new Scene();
  const barePoints = new Points(
    bareGeometry,
    new PointsMaterial({
      // The same on-screen size as a middling star (three scales by height / 2, we by the focal length).
      size: (starBase(map) * 1.05) / Math.tan(MathUtils.degToRad(camera.fov) / 2),
      sizeAttenuation: true,
      color: 0x8db4ff,
    }),
  );
  barePoints.frustumCulled = false;
  bare.add(barePoints);

  // Interleaved rounds (bare, ours, bare, ours) share any drift; the better round of each counts.
  const bare1 = frameTime(bare, camera, frames);
  const ours1 = frameTime(galaxy, camera, frames, () => field.frame(camera, 800, 1));
  const bare2 = frameTime(bare, camera, frames);
  const ours2 = frameTime(galaxy, camera, frames, () => field.frame(camera, 800, 1));
  const bareMs = Math.min(bare1, bare2);
  const galaxyMs = Math.min(ours1, ours2);

  // One GPU pick at the centre (the ID pass into the small target, one pixel read back).
  camera.position.set(0, 0, map.bounds.radius * 2.6);
  camera.lookAt(0, 0, 0);
  camera.updateMatrixWorld();
  field.pick(gl, camera, 640, 400, 1280, 800);
  const p0 = performance.now();
  for (let i = 0; i < 3; i++) field.pick(gl, camera, 600 + i * 20, 400, 1280, 800);
  const pickMs = (performance.now() - p0) / 3;

  // Selecting 10% of the points: store update + the in-place upload of the dirty range + a frame.
  const some = new Uint32Array(Math.floor(n / 10)).map((_, i) => i * 10);
  const s0 = performance.now();
  store.select(some, 'replace');
  field.sync(store);
  gl.render(galaxy, camera);
  gl.getContext().readPixels(
    0,
    0,
    1,
    1,
    gl.getContext().RGBA,
    gl.getContext().UNSIGNED_BYTE,
    pixel,
  );
  const selectMs = performance.now() - s0;

  // Lasso: the real worker, positions sent once; a blob over ~a third of the screen.
  const resolver = new LassoResolver();
  resolver.setPositions(map.positions);
  const poly: number[] = [];
  for (let k = 0; k < 64; k++) {
    const a = (2 * Math.PI * k) / 64;
    poly.push(640 + 380 * Math.cos(a) * (1 + 0.2 * Math.sin(5 * a)), 400 + 260 * Math.sin(a));
  }
  const vp = camera.projectionMatrix.clone().multiply(camera.matrixWorldInverse).toArray();
  await resolver.resolve(vp, 1280, 800, poly);
  const runs: { wall: number; worker: number; hits: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = await resolver.resolve(vp, 1280, 800, poly);
    runs.push({ wall: performance.now() - t0, worker: r.ms, hits: r.hits.length });
  }
  resolver.dispose();
  runs.sort((x, y) => x.wall - y.wall);
  const lasso = runs[1] ?? runs[0] ?? { wall: NaN, worker: NaN, hits: 0 };

  field.dispose();
  bareGeometry.dispose();
  return {
    points: n,
    galaxyMs,
    bareMs,
    pickMs,
    selectMs,
    lassoMs: lasso.wall,
    lassoWorkerMs: lasso.worker,
    lassoHits: lasso.hits,
  };
};

document.body.dataset.ready = 'true';
