/**
 * A file dropped where nothing takes it does nothing. A browser's default for a file dropped
 * on a page is to open it in place of the page (the served app, its state gone); the desktop
 * window blocks that navigation in main (main/electron/security.ts), this does it in the page
 * for both. Drop zones (an input panel, a dialog that takes folders) handle their drops first,
 * in React's handlers, and mark them handled (preventDefault); the window's listeners, last
 * on the way up, refuse the rest: the pointer shows no drop, and a drop is dropped.
 */
const carriesFiles = (e: DragEvent): boolean => e.dataTransfer?.types.includes('Files') ?? false;

export function guardFileDrops(target: Window = window): void {
  target.addEventListener('dragover', (e) => {
    if (!carriesFiles(e) || e.defaultPrevented) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'none';
  });
  target.addEventListener('drop', (e) => {
    if (carriesFiles(e) && !e.defaultPrevented) e.preventDefault();
  });
}
