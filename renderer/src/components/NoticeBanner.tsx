/**
 * Notices from main (preload/contract/notices.ts): shown at the top of the window when the
 * app starts (a damaged database moved aside and replaced, say), and when a new one arrives.
 * Each says what happened, why, and where the old file was kept; each can be dismissed.
 */
import { useEffect, useState } from 'react';
import type { Notice } from '../../../preload/contract';
import { getClient } from '../api/client';
import { firstViewSettled } from '../api/firstView';
import { useCall } from '../api/useCall';

export function NoticeBanner() {
  // After the first view: listing the notices starts the sessions worker (app.notices).
  const listed = useCall('app.notices', {}, firstViewSettled);
  const [arrived, setArrived] = useState<Notice[]>([]);
  const [dismissed, setDismissed] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => getClient().on('app.notice', (n) => setArrived((a) => [...a, n])), []);

  const seen = new Set<string>();
  const notices = [...(listed.result?.ok ? listed.result.value.notices : []), ...arrived].filter(
    (n) => !dismissed.has(n.id) && !seen.has(n.id) && seen.add(n.id),
  );
  if (notices.length === 0) return null;
  return (
    <div className="notices" role="region" aria-label="Notices">
      {notices.map((n) => (
        <div key={n.id} className="notice" role="alert" data-notice-kind={n.kind}>
          <div className="notice-body">
            <strong>{n.title}</strong>
            <p>{n.message}</p>
            {n.movedTo && (
              <p className="notice-path">
                Old file kept at <code>{n.movedTo}</code>
              </p>
            )}
          </div>
          <button
            type="button"
            className="notice-dismiss"
            aria-label="Dismiss notice"
            onClick={() => setDismissed((d) => new Set([...d, n.id]))}
          >
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}
