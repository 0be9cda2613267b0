/**
 * The three.js layer of the galaxy: the canvas (render on demand), the stars, the camera rig,
 * cluster label placement, and the bridge that lets the DOM layers pick and project.
 */
import { useFrame, useThree } from '@react-three/fiber';
import { useEffect, useRef } from 'react';
import { Matrix4, type PerspectiveCamera } from 'three';
import type { OrbitControls as OrbitControlsImpl } from 'three-stdlib';
import { settleFirstView } from '../api/firstView';
import { CameraRig } from './CameraRig';
import type { LabelEls } from './ClusterLabels';
import { useLabelPlacer } from './labelPlacer';
import type { GalaxyMap } from './mapData';
import type { SceneApiRef } from './sceneApi';
import { useStars } from './Stars';
import type { GalaxyStore } from './store';
import { ThreeCanvas, type CanvasConfig } from './ThreeCanvas';

const vp = new Matrix4();

interface Props {
  store: GalaxyStore;
  map: GalaxyMap;
  apiRef: SceneApiRef;
  labelsRef: LabelEls;
}

function Scene({ store, map, apiRef, labelsRef }: Props) {
  const field = useStars(map, store);
  const get = useThree((s) => s.get);
  const flyingRef = useRef(false);
  const framesRef = useRef(0);
  useFrame(() => {
    framesRef.current++;
    // after this frame is drawn: the calls the first view held back may start
    if (framesRef.current === 1) setTimeout(settleFirstView, 0);
  });
  useLabelPlacer(map, labelsRef);

  useEffect(() => {
    const camera = (): PerspectiveCamera => get().camera as PerspectiveCamera;
    const controls = (): OrbitControlsImpl | null => get().controls as OrbitControlsImpl | null;
    apiRef.current = {
      pick: (x, y) => {
        const { size } = get();
        return field.pick(camera(), x, y, size.width, size.height);
      },
      viewProjection: () => {
        const c = camera();
        c.updateMatrixWorld();
        return vp.multiplyMatrices(c.projectionMatrix, c.matrixWorldInverse).toArray();
      },
      size: () => ({ width: get().size.width, height: get().size.height }),
      target: () => {
        const t = controls()?.target;
        return t ? [t.x, t.y, t.z] : [0, 0, 0];
      },
      flying: () => flyingRef.current,
      frames: () => framesRef.current,
    };
    return () => {
      apiRef.current = null;
    };
  }, [apiRef, field, get]);

  return (
    <>
      <primitive object={field.object} />
      <CameraRig store={store} map={map} flyingRef={flyingRef} />
    </>
  );
}

/**
 * No multisampling: the stars are the only geometry and their fragment shader smooths each
 * disc's edge itself (shaders.ts), which MSAA does not touch; a multisampled drawing buffer
 * cost ~0.3 s in WebGLRenderer.setSize before the first frame under SwiftShader (cold start).
 */
const CANVAS: CanvasConfig = {
  frameloop: 'demand',
  dpr: [1, 2],
  camera: { fov: 50, position: [0, 0, 10] },
  gl: { antialias: false, alpha: true },
};

export function GalaxyCanvas(props: Props) {
  return (
    <ThreeCanvas config={CANVAS} className="galaxy-canvas" testId="galaxy-canvas">
      <Scene {...props} />
    </ThreeCanvas>
  );
}
