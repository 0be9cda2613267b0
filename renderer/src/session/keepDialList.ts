/**
 * Keeps the open session's list of dials on the server (sessions.setDials) whenever a dial
 * is added, removed, renamed, muted or unmuted or its method changes (a turn changes nothing
 * here, values live in the steps, unless the dial is muted: then the list holds its value).
 * Started for one session once its current step is in place, so neither that restore nor a
 * pack switch's clearing is saved over another list.
 */
import { getClient } from '../api/client';
import { dialList } from '../steer/dialList';
import { dialStore } from '../steer/store';
import { sessionState } from './sessionState';

export function keepDialList(sessionId: string): () => void {
  // each drag tick reaches here: one serialisation of the list a tick, compared as text
  let sent = JSON.stringify(dialList(dialStore.get()));
  return dialStore.subscribe(() => {
    const list = dialList(dialStore.get());
    const json = JSON.stringify(list);
    if (json === sent) return;
    sent = json;
    void getClient()
      .call('sessions.setDials', { sessionId, dials: list })
      .then((r) => {
        if (!r.ok) sessionState.say(`the dials were not saved: ${r.error.message}`, 'error');
      });
  });
}
