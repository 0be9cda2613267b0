import type { ReactNode } from 'react';

export function SidePanel({ health }: { health: ReactNode }) {
  return (
    <aside className="side" aria-label="Feature card and dials">
      <section>
        <div className="section-title">Feature</div>
        <p className="muted">Hover or pick a star in the galaxy to see what its feature does.</p>
      </section>
      <section className="grow">
        <div className="section-title">Dials</div>
        <p className="muted">
          Turn a feature into a dial to steer the model. Each dial shows up here, and the output
          below changes as you turn it.
        </p>
      </section>
      <section>
        <div className="section-title">Runtime</div>
        {health}
      </section>
    </aside>
  );
}
