/**
 * The Orrery mark: a sun and two orbits. Drawn once, in renderer/public/orrery.svg, which is
 * also the page's icon (index.html); a relative URL, so the desktop app's file:// page finds it.
 */
export function OrbitMark({ size = 20 }: { size?: number }) {
  return <img src="./orrery.svg" width={size} height={size} alt="" />;
}
