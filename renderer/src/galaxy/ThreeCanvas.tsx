/**
 * A canvas with a react-three-fiber root on it (createRoot), sized to its box. Not R3F's
 * <Canvas>: that registers the whole THREE namespace as JSX elements (extend(THREE)), which
 * keeps all of three in the bundle, and adds a pointer-event manager; the galaxy's scene is
 * <primitive> objects only and it picks on the CPU itself (pointGrid.ts), so neither is used.
 * The cold start parses and runs what the 3D chunk holds before the first frame (issue 19).
 */
import { createRoot, type ReconcilerRoot, type RenderProps } from '@react-three/fiber';
import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';

export type CanvasConfig = Omit<RenderProps<HTMLCanvasElement>, 'size' | 'events'>;

export function ThreeCanvas({
  children,
  config,
  className,
  testId,
}: {
  children: ReactNode;
  /** The root's configuration (camera, gl, dpr, frameloop); read when the box is first sized. */
  config: CanvasConfig;
  className: string;
  testId: string;
}) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rootRef = useRef<ReconcilerRoot<HTMLCanvasElement> | null>(null);
  const configRef = useRef(config);
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  // A renderer that could not be made (no WebGL): thrown to the boundary around the galaxy.
  const [error, setError] = useState<unknown>(null);
  if (error !== null) throw error;

  // The box's size, as it changes; nothing is drawn while it has none.
  useLayoutEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    const seen = new ResizeObserver(([entry]) => {
      const r = entry?.contentRect;
      if (r && r.width > 0 && r.height > 0)
        setSize((s) =>
          s?.width === r.width && s.height === r.height ? s : { width: r.width, height: r.height },
        );
    });
    seen.observe(box);
    return () => seen.disconnect();
  }, []);

  // The root, made once the box has a size; sized again, and given the children, as they change.
  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !size) return;
    rootRef.current ??= createRoot(canvas);
    const root = rootRef.current;
    root.configure({ ...configRef.current, size: { ...size, top: 0, left: 0 } }).catch(setError);
    if (root.ready.status !== 'rejected') root.render(children);
  }, [size, children]);

  // Released with the canvas.
  useLayoutEffect(
    () => () => {
      rootRef.current?.unmount();
      rootRef.current = null;
    },
    [],
  );

  return (
    <div
      ref={boxRef}
      className={className}
      data-testid={testId}
      style={{ position: 'relative', width: '100%', height: '100%', overflow: 'hidden' }}
    >
      <canvas ref={canvasRef} style={{ display: 'block' }} />
    </div>
  );
}
