/**
 * The links between the two galaxies: an SVG over both panes with a line from each linked
 * feature's star on the main galaxy to its match's star on the other, green where the match is
 * shared and blue, dashed, where it is specific, stronger matches more opaque; the hovered
 * star's links drawn thicker. Lines are written straight to the SVG (no React state per frame):
 * at once when the links change, and in an animation frame when a camera moved or a pane was
 * resized. A line whose end is off its canvas is left out.
 */
import { useEffect, useRef } from 'react';
import { projectPoint } from '../galaxy/project';
import type { SceneApi } from '../galaxy/sceneApi';
import type { GalaxyStore } from '../galaxy/store';
import { bridgeView } from './bridgeView';

const SVG = 'http://www.w3.org/2000/svg';

/** Where a feature's star is, in CSS pixels of `host`; null when it is not on its canvas. */
function starAt(
  store: GalaxyStore,
  scene: SceneApi | null,
  canvas: DOMRect | undefined,
  host: DOMRect,
  feature: number,
  out: [number, number],
): [number, number] | null {
  const p = store.pointOf(feature);
  if (!scene || !canvas || p < 0) return null;
  const [x, y, z] = store.position(p);
  const { width, height } = scene.size();
  if (!projectPoint(scene.viewProjection(), x, y, z, width, height, out)) return null;
  if (out[0] < 0 || out[0] > width || out[1] < 0 || out[1] > height) return null;
  return [canvas.left - host.left + out[0], canvas.top - host.top + out[1]];
}

export function BridgeLinks() {
  const svg = useRef<SVGSVGElement>(null);

  useEffect(() => {
    let frame = 0;
    let seen = '';
    let queued = false;
    const out: [number, number] = [0, 0];
    /** Redraws when a camera moved or a pane was resized, or always (`force`: the links changed). */
    const draw = (force: boolean): void => {
      const el = svg.current;
      const host = el?.parentElement;
      if (!el || !host) return;
      const { main, other } = bridgeView.scenes;
      const views = host.querySelectorAll<HTMLElement>('.galaxy-view');
      const mainRect = views[0]?.getBoundingClientRect();
      const otherRect = views[1]?.getBoundingClientRect();
      const hostRect = host.getBoundingClientRect();
      const key = [
        main.current?.frames() ?? -1,
        other.current?.frames() ?? -1,
        mainRect?.width,
        mainRect?.left,
        otherRect?.width,
        otherRect?.left,
        hostRect.width,
        hostRect.height,
      ].join(',');
      if (key === seen && !force) return;
      seen = key;
      const links = bridgeView.links;
      const hovered = bridgeView.hover;
      el.setAttribute('viewBox', `0 0 ${hostRect.width} ${hostRect.height}`);
      const lines: SVGLineElement[] = [];
      for (const l of links) {
        const a = starAt(bridgeView.main, main.current, mainRect, hostRect, l.main, out);
        const b =
          a && starAt(bridgeView.otherStore, other.current, otherRect, hostRect, l.other, out);
        if (!a || !b) continue;
        const line = document.createElementNS(SVG, 'line');
        line.setAttribute('x1', a[0].toFixed(1));
        line.setAttribute('y1', a[1].toFixed(1));
        line.setAttribute('x2', b[0].toFixed(1));
        line.setAttribute('y2', b[1].toFixed(1));
        const fromHover =
          hovered !== null &&
          (hovered.from === 'main' ? l.main === hovered.feature : l.other === hovered.feature);
        line.setAttribute('class', `bridge-link ${l.kind}${fromHover ? ' hovered' : ''}`);
        const strength = Math.min(1, Math.max(0, Math.abs(l.score)));
        line.style.opacity = (0.35 + 0.65 * strength).toFixed(2);
        line.dataset.main = String(l.main);
        line.dataset.other = String(l.other);
        line.dataset.score = l.score.toFixed(4);
        lines.push(line);
      }
      el.replaceChildren(...lines);
    };
    const tick = (): void => {
      frame = requestAnimationFrame(tick);
      draw(false);
    };
    // the links changed: draw them now (once per burst of changes), not at the next frame
    const off = bridgeView.subscribe(() => {
      if (queued) return;
      queued = true;
      queueMicrotask(() => {
        queued = false;
        draw(true);
      });
    });
    draw(true);
    frame = requestAnimationFrame(tick);
    return () => {
      off();
      cancelAnimationFrame(frame);
    };
  }, []);

  return <svg ref={svg} className="bridge-links" data-testid="bridge-links" aria-hidden="true" />;
}
