/**
 * GPU picking: the stars drawn again with the ID material into a small render target that
 * covers a window around the pointer (camera.setViewOffset), then one pixel read back.
 */
import {
  Color,
  Points,
  Scene,
  WebGLRenderTarget,
  type BufferGeometry,
  type PerspectiveCamera,
  type WebGLRenderer,
} from 'three';
import { decodePick, makePickMaterial, type StarUniforms } from './shaders';

/** Side of the pick window in CSS pixels; larger than the biggest star. */
const WINDOW = 48;

export class Picker {
  private readonly target = new WebGLRenderTarget(WINDOW, WINDOW, { depthBuffer: true });
  private readonly scene = new Scene();
  private readonly points: Points;
  private readonly pixel = new Uint8Array(4);

  constructor(geometry: BufferGeometry, uniforms: StarUniforms) {
    this.points = new Points(geometry, makePickMaterial(uniforms));
    this.points.frustumCulled = false;
    this.scene.add(this.points);
  }

  /** The star under (x, y) in CSS pixels of a width × height canvas, or null. */
  pick(
    gl: WebGLRenderer,
    camera: PerspectiveCamera,
    x: number,
    y: number,
    width: number,
    height: number,
  ): number | null {
    const half = WINDOW / 2;
    const prevTarget = gl.getRenderTarget();
    const clearColor = gl.getClearColor(new Color());
    const clearAlpha = gl.getClearAlpha();
    camera.setViewOffset(width, height, Math.floor(x) - half, Math.floor(y) - half, WINDOW, WINDOW);
    try {
      gl.setRenderTarget(this.target);
      gl.setClearColor(0x000000, 1);
      gl.clear(true, true, false);
      gl.render(this.scene, camera);
      gl.readRenderTargetPixels(this.target, half, WINDOW - 1 - half, 1, 1, this.pixel);
    } finally {
      gl.setRenderTarget(prevTarget);
      gl.setClearColor(clearColor, clearAlpha);
      camera.clearViewOffset();
    }
    const [r = 0, g = 0, b = 0] = this.pixel;
    return decodePick(r, g, b);
  }

  dispose(): void {
    this.target.dispose();
    (this.points.material as { dispose(): void }).dispose();
  }
}
