/**
 * The star shaders. `position` and `aLook` (RGB colour bytes + a size byte: world size is
 * uBase · (0.5 + 1.1 · size)) are the static layer; `aState` (RGBA bytes: selected, dimmed,
 * active brightness, search highlight) and the hover uniform are the interactive layer.
 * Two passes share it: pass 0 draws the level-of-detail share of the points and skips the
 * emphasised ones (selected, lit, highlighted), pass 1 draws exactly those, on top.
 * Picking runs on the CPU (picking.ts) with the same size rule.
 */
import { Color, NormalBlending, ShaderMaterial, type IUniform } from 'three';

const SIZE = /* glsl */ `
  attribute vec4 aLook;
  attribute vec4 aState;
  uniform float uBase;        // world size of the smallest star
  uniform float uScale;       // CSS pixels per world unit at distance 1
  uniform float uPixelRatio;
  uniform int uHover;
  float starSize(vec4 mv) {
    float size = uBase * (0.5 + 1.1 * aLook.a);
    float px = clamp(size * uScale / max(-mv.z, 1e-4), 2.0, 18.0);
    if (aState.r > 0.5) px = max(px * 1.35, 7.0);
    if (aState.b > 0.0) px *= 1.0 + 0.6 * aState.b;
    if (gl_VertexID == uHover) px = max(px * 1.6, 12.0);
    return px * uPixelRatio;
  }
`;

const vertex = /* glsl */ `
  ${SIZE}
  uniform float uAnyActive;
  uniform float uPass;
  varying vec3 vColor;
  varying float vAlpha;
  varying float vRing;
  varying float vCore;
  void main() {
    if (uPass < 0.5 && (aState.r > 0.5 || aState.b > 0.0 || aState.a > 0.5)) {
      // Emphasised: drawn by pass 1.
      gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
      gl_PointSize = 0.0;
      return;
    }
    vec4 mv = modelViewMatrix * vec4(position, 1.0);
    gl_Position = projectionMatrix * mv;
    gl_PointSize = starSize(mv);
    vec3 c = aLook.rgb;
    float a = 0.85;
    vRing = 0.0;
    vCore = 0.0;
    if (uAnyActive > 0.5) {
      // What is active: the rest fades, active stars glow warm, brightest for the strongest.
      a = aState.b > 0.0 ? 0.55 + 0.45 * aState.b : 0.22;
      c = aState.b > 0.0 ? mix(c, vec3(1.0, 0.86, 0.55), 0.35 + 0.65 * aState.b) : c * 0.6;
      vCore = aState.b;
    }
    if (aState.g > 0.5) { a *= 0.12; c = mix(c, vec3(0.4, 0.43, 0.5), 0.6); }
    if (aState.a > 0.5) { vRing = 1.0; a = max(a, 0.95); }
    if (aState.r > 0.5) { c = mix(c, vec3(1.0), 0.55); a = 1.0; vRing = 2.0; }
    if (gl_VertexID == uHover) { c = mix(c, vec3(1.0), 0.7); a = 1.0; }
    vColor = c;
    vAlpha = a;
  }
`;

const fragment = /* glsl */ `
  uniform vec3 uRing;
  uniform vec3 uSelect;
  varying vec3 vColor;
  varying float vAlpha;
  varying float vRing;
  varying float vCore;
  void main() {
    vec2 d = gl_PointCoord - 0.5;
    float r = length(d) * 2.0;
    if (r > 1.0) discard;
    float disc = 1.0 - smoothstep(0.55, 1.0, r);
    vec3 c = vColor * (0.75 + 0.45 * (1.0 - r)) + vCore * 0.35 * (1.0 - r);
    float a = vAlpha * disc;
    if (vRing > 0.5) {
      float ring = smoothstep(0.62, 0.72, r) * (1.0 - smoothstep(0.88, 1.0, r));
      c = mix(c, vRing > 1.5 ? uSelect : uRing, ring);
      a = max(a, ring * 0.95);
    }
    gl_FragColor = vec4(c, a);
  }
`;

export type StarUniforms = {
  uBase: IUniform<number>;
  uPass: IUniform<number>;
  uScale: IUniform<number>;
  uPixelRatio: IUniform<number>;
  uHover: IUniform<number>;
  uAnyActive: IUniform<number>;
  uRing: IUniform<Color>;
  uSelect: IUniform<Color>;
};

/** Pass 0 (the level-of-detail share); `shared` gives pass 1 the same uniform objects. */
export function makeStarMaterial(
  shared?: StarUniforms,
): ShaderMaterial & { uniforms: StarUniforms } {
  const uniforms: StarUniforms = shared
    ? { ...shared, uPass: { value: 1 } }
    : {
        uBase: { value: 1 },
        uPass: { value: 0 },
        uScale: { value: 400 },
        uPixelRatio: { value: 1 },
        uHover: { value: -1 },
        uAnyActive: { value: 0 },
        uRing: { value: new Color('#8db4ff') },
        uSelect: { value: new Color('#f0c27a') },
      };
  return new ShaderMaterial({
    uniforms,
    vertexShader: vertex,
    fragmentShader: fragment,
    transparent: true,
    depthWrite: false,
    depthTest: false,
    blending: NormalBlending,
  }) as ShaderMaterial & { uniforms: StarUniforms };
}
