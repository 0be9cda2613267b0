/**
 * A modal dialog: a backdrop over the whole window (a portal into document.body, so no panel's
 * box clips it), Escape to `onEscape`, and a title that names it for assistive tech. React
 * bubbles a portal's events through the component tree, so pointer events stop at the
 * backdrop: a dialog opened from inside the galaxy must not pick the stars behind it.
 */
import { useId, type ReactNode, type SyntheticEvent } from 'react';
import { createPortal } from 'react-dom';

const stop = (e: SyntheticEvent): void => e.stopPropagation();

export function Dialog({
  title,
  onEscape,
  children,
}: {
  title: string;
  onEscape: () => void;
  children: ReactNode;
}) {
  const id = useId();
  return createPortal(
    <div
      className="dialog-backdrop"
      role="presentation"
      onKeyDown={(e) => e.key === 'Escape' && onEscape()}
      onPointerDown={stop}
      onPointerUp={stop}
      onPointerMove={stop}
    >
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby={id}>
        <h2 id={id}>{title}</h2>
        {children}
      </div>
    </div>,
    document.body,
  );
}
