/** The Orrery mark: a sun and two orbits. */
export function OrbitMark({ size = 20 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true">
      <circle cx="12" cy="12" r="3" fill="#f0c27a" />
      <ellipse cx="12" cy="12" rx="10" ry="4.2" fill="none" stroke="#8db4ff" strokeWidth="1.2" />
      <ellipse
        cx="12"
        cy="12"
        rx="10"
        ry="4.2"
        fill="none"
        stroke="#8db4ff"
        strokeOpacity="0.5"
        strokeWidth="1.2"
        transform="rotate(60 12 12)"
      />
      <circle cx="21.2" cy="10.3" r="1.3" fill="#d9dde6" />
    </svg>
  );
}
