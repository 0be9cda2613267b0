/**
 * A canvas with a react-three-fiber root on it (createRoot), sized to its box. Not R3F's
 * <Canvas>: that registers the whole THREE namespace as JSX elements (extend(THREE)), which
 * keeps all of three in the bundle, and adds a pointer-event manager; the galaxy's scene is
 * <primitive> objects only and it picks on the CPU itself (pointGrid.ts), so neither is used.
 * The cold start parses and runs what the 3D chunk holds before the first frame (issue 19).
 * The root is configured at once at the box's size (measured in the layout effect), not a
 * ResizeObserver's callback and a render later.
 */
import { createRoot, type ReconcilerRoot, type RenderProps } from '@react-three/fiber';
import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';

export type CanvasConfig = Omit<RenderProps<HTMLCanvasElement>, 'size' | 'events'>;

interface Size {
  width: number;
  height: number;
}

export function ThreeCanvas({
  children,
  config,
  className,
  testId,
}: {
  children: ReactNode;
  /** The root's configuration (camera, gl, dpr, frameloop); read when the canvas is made. */
  config: CanvasConfig;
  className: string;
  testId: string;
}) {
  const boxRef = useRef<HTMLDivElement>(null);
  const drawRef = useRef<((children: ReactNode) => void) | null>(null);
  const childrenRef = useRef(children);
  // A renderer that could not be made (no WebGL): thrown to the boundary around the galaxy.
  const [error, setError] = useState<unknown>(null);
  if (error !== null) throw error;

  // The canvas and its root, for the life of the box: configured at the box's size whenever
  // that changes (measured at once, then by a ResizeObserver); nothing drawn while it has none.
  const configRef = useRef(config);
  useLayoutEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    const canvas = document.createElement('canvas');
    canvas.style.display = 'block';
    box.appendChild(canvas);
    const root: ReconcilerRoot<HTMLCanvasElement> = createRoot(canvas);
    const base = configRef.current;
    let size: Size | null = null;
    const draw = (next: ReactNode): void => {
      if (!size) return;
      root.configure({ ...base, size: { ...size, top: 0, left: 0 } }).catch(setError);
      if (root.ready.status !== 'rejected') root.render(next);
    };
    const resize = (r: Size): void => {
      if (r.width <= 0 || r.height <= 0) return;
      if (size?.width === r.width && size.height === r.height) return;
      size = { width: r.width, height: r.height };
      draw(childrenRef.current);
    };
    resize(box.getBoundingClientRect());
    const seen = new ResizeObserver(([entry]) => entry && resize(entry.contentRect));
    seen.observe(box);
    drawRef.current = draw;
    return () => {
      seen.disconnect();
      drawRef.current = null;
      root.unmount();
      canvas.remove();
    };
  }, []);

  // New children (the scene's props changed): rendered into the root.
  useLayoutEffect(() => {
    childrenRef.current = children;
    drawRef.current?.(children);
  }, [children]);

  return (
    <div
      ref={boxRef}
      className={className}
      data-testid={testId}
      style={{ position: 'relative', width: '100%', height: '100%', overflow: 'hidden' }}
    />
  );
}
