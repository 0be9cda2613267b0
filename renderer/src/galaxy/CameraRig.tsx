/**
 * The camera: orbit, zoom and pan (drei OrbitControls), and animated flights to a feature,
 * a cluster, the selection or home, driven by the store's fly requests and read in useFrame.
 */
import { OrbitControls } from '@react-three/drei';
import { useFrame, useThree } from '@react-three/fiber';
import { useEffect, useRef } from 'react';
import { PerspectiveCamera, Vector3 } from 'three';
import type { OrbitControls as OrbitControlsImpl } from 'three-stdlib';
import type { GalaxyMap } from './mapData';
import type { GalaxyStore } from './store';

const HOME_DIRECTION = new Vector3(0.35, 0.3, 1).normalize();
const DURATION_MS = 650;

interface Flight {
  t0: number;
  fromTarget: Vector3;
  toTarget: Vector3;
  fromPos: Vector3;
  toPos: Vector3;
}

const scratch = new Vector3();

function ease(t: number): number {
  return t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2;
}

export function CameraRig({
  store,
  map,
  flyingRef,
}: {
  store: GalaxyStore;
  map: GalaxyMap;
  flyingRef: { current: boolean };
}) {
  const get = useThree((s) => s.get);
  const flightRef = useRef<Flight | null>(null);
  const seenRef = useRef(0);
  const placedRef = useRef<GalaxyMap | null>(null);

  useEffect(() => {
    const { camera, invalidate } = get();
    if (camera instanceof PerspectiveCamera) {
      camera.near = map.bounds.radius * 0.01;
      camera.far = map.bounds.radius * 40;
      camera.updateProjectionMatrix();
    }
    invalidate();
    return store.subscribe(() => {
      if (store.fly && store.fly.seq !== seenRef.current) get().invalidate();
    });
  }, [get, map, store]);

  useFrame((state) => {
    const controls = state.controls as OrbitControlsImpl | null;
    const camera = state.camera;
    if (!controls) return;
    const fly = store.fly;
    if (fly && fly.seq !== seenRef.current) {
      seenRef.current = fly.seq;
      const toTarget = new Vector3(...fly.target);
      const dir = fly.reset
        ? HOME_DIRECTION
        : scratch.copy(camera.position).sub(controls.target).normalize();
      const toPos = toTarget.clone().addScaledVector(dir, fly.distance);
      const instant = placedRef.current !== map;
      placedRef.current = map;
      if (instant) {
        controls.target.copy(toTarget);
        camera.position.copy(toPos);
        controls.update();
        flightRef.current = null;
      } else {
        flightRef.current = {
          t0: performance.now(),
          fromTarget: controls.target.clone(),
          toTarget,
          fromPos: camera.position.clone(),
          toPos,
        };
      }
    }
    const f = flightRef.current;
    flyingRef.current = f !== null;
    if (!f) return;
    const t = Math.min(1, (performance.now() - f.t0) / DURATION_MS);
    const k = ease(t);
    controls.target.lerpVectors(f.fromTarget, f.toTarget, k);
    camera.position.lerpVectors(f.fromPos, f.toPos, k);
    controls.update();
    if (t >= 1) {
      flightRef.current = null;
      flyingRef.current = false;
    }
    state.invalidate();
  });

  return <OrbitControls makeDefault enableDamping={false} zoomSpeed={0.8} />;
}
