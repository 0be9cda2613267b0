import type { ReactNode } from 'react';

interface Props {
  health: ReactNode;
  dials: ReactNode;
  card?: ReactNode;
  history?: ReactNode;
}

export function SidePanel({ health, dials, card, history }: Props) {
  return (
    <aside className="side" aria-label="Feature card and dials">
      <section>
        <div className="section-title">Feature</div>
        {card ?? (
          <p className="muted">Hover or pick a star in the galaxy to see what its feature does.</p>
        )}
      </section>
      <section className="grow">
        <div className="section-title">Dials</div>
        {dials}
      </section>
      {history && (
        <section>
          <div className="section-title">History</div>
          {history}
        </section>
      )}
      <section>
        <div className="section-title">Runtime</div>
        {health}
      </section>
    </aside>
  );
}
