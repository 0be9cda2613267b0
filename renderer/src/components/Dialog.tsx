/**
 * A modal dialog: a backdrop over the whole window (a portal into document.body, so no panel's
 * box clips it), Escape to `onEscape`, and a title that names it for assistive tech. React
 * bubbles a portal's events through the component tree, so pointer events stop at the
 * backdrop: a dialog opened from inside the galaxy must not pick the stars behind it.
 */
import { useEffect, useId, useRef, type ReactNode, type SyntheticEvent } from 'react';
import { createPortal } from 'react-dom';
import { BrowseButton, type BrowseSpec } from './FilePicker';

const stop = (e: SyntheticEvent): void => e.stopPropagation();

export function Dialog({
  title,
  onEscape,
  children,
  wide = false,
}: {
  title: string;
  onEscape: () => void;
  children: ReactNode;
  /** Room for a table (the model inspection). */
  wide?: boolean;
}) {
  const id = useId();
  return createPortal(
    <div
      className="dialog-backdrop"
      role="presentation"
      onKeyDown={(e) => {
        if (e.key !== 'Escape') return;
        // A dialog opened over another (the folder picker) closes alone.
        e.stopPropagation();
        onEscape();
      }}
      onPointerDown={stop}
      onPointerUp={stop}
      onPointerMove={stop}
    >
      <div
        className={wide ? 'dialog dialog-wide' : 'dialog'}
        role="dialog"
        aria-modal="true"
        aria-labelledby={id}
      >
        <h2 id={id}>{title}</h2>
        {children}
      </div>
    </div>,
    document.body,
  );
}

/**
 * The path a dialog asks for: focused when the dialog opens (the first of several: `focus`),
 * Enter submits; Browse… beside it picks one (the served picker, or the desktop's system
 * dialog, which grants the pick).
 */
export function PathField({
  label,
  placeholder,
  value,
  onChange,
  onEnter,
  browse,
  disabled = false,
  focus = true,
}: {
  label: string;
  placeholder: string;
  value: string;
  onChange: (value: string) => void;
  onEnter: () => void;
  browse: BrowseSpec;
  disabled?: boolean;
  focus?: boolean;
}) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (focus) ref.current?.focus();
  }, [focus]);
  return (
    <div className="path-field">
      <input
        ref={ref}
        aria-label={label}
        placeholder={placeholder}
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => e.key === 'Enter' && value.trim() && onEnter()}
      />
      <BrowseButton spec={browse} disabled={disabled} onPath={onChange} />
    </div>
  );
}

/** A dialog's buttons: close (or cancel the work in flight) and its one action. */
export function DialogActions({
  closeLabel,
  onClose,
  actionLabel,
  actionDisabled,
  onAction,
}: {
  closeLabel: string;
  onClose: () => void;
  actionLabel: string;
  actionDisabled: boolean;
  onAction: () => void;
}) {
  return (
    <div className="row">
      <button type="button" onClick={onClose}>
        {closeLabel}
      </button>
      <button type="button" className="primary" disabled={actionDisabled} onClick={onAction}>
        {actionLabel}
      </button>
    </div>
  );
}
