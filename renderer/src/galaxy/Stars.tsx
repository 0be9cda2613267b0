/**
 * The stars in the scene: one StarField per map. Store changes upload only the dirty state
 * range and request one frame (frameloop "demand").
 */
import { useFrame, useThree } from '@react-three/fiber';
import { useEffect, useMemo } from 'react';
import type { PerspectiveCamera } from 'three';
import type { GalaxyMap } from './mapData';
import { StarField } from './starField';
import type { GalaxyStore } from './store';

export function useStars(map: GalaxyMap, store: GalaxyStore): StarField {
  const invalidate = useThree((s) => s.invalidate);
  const field = useMemo(() => new StarField(map, store.state), [map, store]);

  useEffect(() => {
    const sync = (): void => {
      field.sync(store);
      invalidate();
    };
    sync();
    const off = store.subscribe(sync);
    return () => {
      off();
      field.dispose();
    };
  }, [field, store, invalidate]);

  useFrame(({ camera, size, gl }) => {
    field.frame(camera as PerspectiveCamera, size.height, gl.getPixelRatio());
  });

  return field;
}
