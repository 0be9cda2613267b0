/**
 * The bench's own instruments in the page for one dial tick (installed before the app loads,
 * nothing in the app changed for them): the pointermove's event timeStamp and the moment the
 * page's first listener gets it; the moment the
 * page's socket sends the tick's image.steer call; the moment the run's image.frame event
 * arrives, with the worker's own time for the run (`ms`: steer, metrics and PNG, timed in the
 * inference worker); then the app's `orrery:image-drawn` mark: the canvas drawn (putImageData
 * done) and the animation frame after it (on screen). All in the page's clock.
 * A tick drawn from a drag sweep's frames sends no call: its send, frame and worker times are
 * absent (NaN) and its source is 'sweep' when the frame was in the page already (drawn in the
 * move's own handler), 'waited' when the move waited for the sweep to send it.
 */
export interface Tick {
  /**
   * 'live': the tick's own image.steer run drew it; 'sweep': a drag sweep's frame already in
   * the page did, in the move's handler; 'waited': a sweep frame that came after the move did
   */
  source: 'live' | 'sweep' | 'waited';
  /**
   * pointermove timeStamp → the page's first listener for it runs (the browser holds a move
   * for the next animation frame: rAF-aligned input)
   */
  delivered: number;
  /** pointermove → image.steer sent */
  send: number;
  /** sent → image.frame event received (server, worker and both socket hops) */
  frame: number;
  /** of which the run in the inference worker */
  worker: number;
  /** event received → canvas drawn */
  draw: number;
  /** pointermove → canvas drawn */
  drawn: number;
  /** pointermove → the animation frame after it */
  presented: number;
}

/** addInitScript: records the times of the current tick in window.__tick. */
export const tickProbe = `(() => {
  const t = (window.__tick = { move: null, delivered: null, handled: null, send: null, frame: null, worker: null });
  addEventListener('pointermove', (e) => {
    Object.assign(t, { move: e.timeStamp, delivered: performance.now(), handled: null, send: null, frame: null, worker: null });
  }, { capture: true });
  // the window's bubble listener runs after the app's handlers: the move has been handled
  addEventListener('pointermove', () => { t.handled = performance.now(); });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (d) {
    if (t.move !== null && t.send === null && typeof d === 'string' && d.includes('"call":"image.steer"'))
      t.send = performance.now();
    return send.call(this, d);
  };
  const own = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
  Object.defineProperty(WebSocket.prototype, 'onmessage', {
    get() { return own.get.call(this); },
    set(fn) {
      own.set.call(this, (e) => {
        if (t.send !== null && t.frame === null && e.data instanceof ArrayBuffer && e.data.byteLength > 8) {
          const at = performance.now();
          const n = Math.min(new DataView(e.data).getUint32(4, true), 4096);
          const head = new TextDecoder().decode(new Uint8Array(e.data, 8, n));
          if (head.includes('"event":"image.frame"')) {
            t.frame = at;
            t.worker = Number((head.match(/"ms":([0-9.eE+-]+)/) || [])[1]);
          }
        }
        return fn(e);
      });
    },
  });
})()`;

/**
 * In the page, before a move: window.__dialSample resolves with the next tick (a Tick) when
 * its image is drawn, or NaNs after 20 s.
 */
export const armTick = `(() => {
  window.__dialSample = new Promise((resolve) => {
    const t = window.__tick;
    t.move = null;
    const drawn = (e) => {
      if (t.move === null || e.detail.drawnAt < t.move) return;
      removeEventListener('orrery:image-drawn', drawn);
      // no call sent for this tick: drawn from a drag sweep's frame, in the move's handler or
      // when the frame came
      const live = t.send !== null;
      const inMove = t.handled === null || e.detail.drawnAt <= t.handled;
      resolve({
        source: live ? 'live' : inMove ? 'sweep' : 'waited',
        delivered: t.delivered - t.move,
        send: live ? t.send - t.move : NaN,
        frame: live ? t.frame - t.send : NaN,
        worker: live ? t.worker : NaN,
        draw: live ? e.detail.drawnAt - t.frame : NaN,
        drawn: e.detail.drawnAt - t.move,
        presented: e.detail.at - t.move,
      });
    };
    addEventListener('orrery:image-drawn', drawn);
    setTimeout(() => resolve({ source: 'live', delivered: NaN, send: NaN, frame: NaN, worker: NaN, draw: NaN, drawn: NaN, presented: NaN }), 20000);
  });
})()`;
