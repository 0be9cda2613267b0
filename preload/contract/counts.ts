/**
 * Counts in the app's English text, for the page and for what main writes (the index's
 * cluster titles): one way everywhere.
 */

/**
 * A count with its thousands grouped as the app's English text writes them ("1,048,576").
 * Not toLocaleString: a page's first Intl number formatting sets up ICU's number data, 27-33 ms
 * in Debian's chromium here, and the galaxy's toolbar formats its count in the first render.
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const digits = String(Math.abs(Math.round(n)));
  return `${n < 0 ? '-' : ''}${digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}`;
}

/** "1 feature", "1,024 features"; "? features" where the count is not known. */
export function formatFeatures(n: number | null | undefined): string {
  if (n == null) return '? features';
  return `${formatCount(n)} ${n === 1 ? 'feature' : 'features'}`;
}
