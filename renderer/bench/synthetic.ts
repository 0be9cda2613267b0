/** The bench's synthetic galaxy (the page and the node side of bench/galaxy.ts share it). */
import { rng } from '../src/galaxy/lod';
import { makeMap, type GalaxyMap } from '../src/galaxy/mapData';

/** n points in 48 gaussian clusters, log-uniform densities. */
export function synthetic(n: number): GalaxyMap {
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
