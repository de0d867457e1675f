// mroute dashboard: live updates over the controller's WebSocket
// (docs/api.md, "Live updates over a WebSocket").  The page never polls
// metrics: it subscribes to every flow ("*") and is pushed a metrics
// message once a second and every event as it is stored.  It reconnects
// by itself (1, 2, 4 ... 10 s) when the controller goes away, with a new
// ticket each time.

import { api, getKey } from './api.js';

const MAX_DELAY_MS = 10000;
const QUIET_MS = 45000;          // nothing heard (not even a pong): reconnect
const PING_MS = 15000;

export class Live extends EventTarget {
  constructor() {
    super();
    this.ws = null;
    this.failures = 0;
    this.timer = null;
    this.pinger = null;
    this.lastHeard = 0;
    this.state = 'connecting';
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
    this.pinger = setInterval(() => this.keepAlive(), PING_MS);
  }

  setState(state, detail) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, detail } }));
  }

  async connect() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped)
      return;
    this.setState('connecting');
    let query = '';
    try {
      // a ticket is needed when the controller has a key; without one
      // the ticket is taken and not needed, so ask whenever we can
      const t = await api.ticket();
      query = '?ticket=' + encodeURIComponent(t.ticket);
    } catch (e) {
      if (e.status === 404 || e.status === 405) {
        this.setState('unavailable', 'this controller has no WebSocket');
        return this.retry();
      }
      if (e.status !== undefined && getKey() === null && e.status !== 401) {
        // no key, and the controller answered: try without a ticket
      } else if (e.status === undefined || e.status === 401 || e.status >= 500) {
        return this.retry();
      }
    }
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WebSocket(`${scheme}//${location.host}/v1/ws${query}`, 'mroute.v1');
    } catch (e) {
      return this.retry();
    }
    this.ws = ws;
    ws.onopen = () => {
      this.lastHeard = Date.now();
      ws.send(JSON.stringify({ type: 'subscribe', flows: '*' }));
    };
    ws.onmessage = (m) => {
      this.lastHeard = Date.now();
      let msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      if (msg.type === 'hello') {
        this.failures = 0;
        this.setState('live');
        this.dispatchEvent(new CustomEvent('open'));
      } else if (msg.type) {
        this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
      }
    };
    ws.onclose = () => {
      if (this.ws === ws) {
        this.ws = null;
        this.retry();
      }
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  retry() {
    if (this.stopped || this.timer)
      return;
    if (this.state === 'live' || this.state === 'connecting')
      this.setState('offline');
    const delay = Math.min(1000 * 2 ** this.failures, MAX_DELAY_MS);
    this.failures = Math.min(this.failures + 1, 6);
    this.timer = setTimeout(() => this.connect(), delay * (0.8 + 0.4 * Math.random()));
  }

  keepAlive() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN)
      return;
    if (Date.now() - this.lastHeard > QUIET_MS) {
      this.ws = null;
      ws.close();
      this.retry();
      return;
    }
    ws.send(JSON.stringify({ type: 'ping' }));
  }
}
