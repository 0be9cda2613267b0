/**
 * The engine registry: which class loads a pack of each kind. Data, not a switch, so a new
 * kind is one line here.
 */
import { OrreryError, type PackKind } from '../../preload/contract';
import type { LoadedPack } from '../packs/packReader';
import type { AnyEngine, EngineLoader } from './engine';

const loaders = new Map<PackKind, EngineLoader>();

export function registerEngine(kind: PackKind, loader: EngineLoader): void {
  loaders.set(kind, loader);
}

export async function loadEngine(pack: LoadedPack): Promise<AnyEngine> {
  const loader = loaders.get(pack.manifest.kind);
  if (!loader)
    throw new OrreryError('unavailable', `no engine for packs of kind ${pack.manifest.kind}`);
  return loader(pack);
}
