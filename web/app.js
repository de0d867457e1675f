// mroute dashboard: the views (#/ the flow list, #/flows/ID a flow,
// #/new the form that creates one), kept up to date by the WebSocket
// (live.js); REST (api.js) for what the user does, the first state of a
// view, the thumbnails and the metadata.  docs/dashboard.md.

import { api, askKey, getKey, setKey } from './api.js';
import { Live } from './live.js';
import { History, sparkline, drawChart, formatKbps } from './charts.js';
import {
  h, SOURCE_FIELDS, OUTPUT_FIELDS, endpointEditor, readEndpoint, showError, clearErrors, fieldInput,
} from './fields.js';

const view = document.getElementById('view');
const live = new Live();
const history = new History();
const lastMetrics = new Map();   // flow id -> its last metrics message item
let current = null;              // the view on screen: {name, ...handlers}

// ----------------------------------------------------------------------
// helpers

function stateBadge(status) {
  return h('span', { class: `state state-${(status || 'unknown').toLowerCase()}`, 'data-role': 'state' }, status || '?');
}

function alarmBadges(m) {
  const out = [];
  for (const s of (m && m.source_metrics) || []) {
    const a = s.content_alarms || {};
    for (const kind of ['black', 'frozen', 'silent'])
      if (a[kind] && a[kind].active)
        out.push(h('span', { class: `badge badge-${kind}`, 'data-alarm': kind, title: `source '${s.name}'` }, kind));
  }
  if (m && m.status === 'ACTIVE') {
    if ((m.source_metrics || []).length && !(m.source_metrics || []).some((s) => s.connected))
      out.push(h('span', { class: 'badge badge-warn', 'data-alarm': 'no-input' }, 'no input'));
    const down = (m.output_metrics || []).filter((o) => !o.connected).length;
    if (down)
      out.push(h('span', { class: 'badge badge-warn', 'data-alarm': 'output-down' }, `${down} output${down > 1 ? 's' : ''} down`));
  }
  return out;
}

function inputKbps(m) {
  const src = m.source_metrics || [];
  if (m.merge_active || (m.merge_stats && src.length > 1))
    return Math.max(0, ...src.map((s) => s.bitrate_kbps || 0));
  const active = src.find((s) => s.name === m.active_source) || src.find((s) => s.source_selected);
  return active ? active.bitrate_kbps || 0 : 0;
}

// The source on air; a merging MERGE flow's sources all are
function activeText(m) {
  if (m.merge_active)
    return (m.source_metrics || []).filter((s) => s.source_selected).map((s) => s.name).join(' + ') || 'merge';
  return m.active_source || '-';
}

function endpointText(e) {
  if (e.protocol === 'hls')
    return 'served here';
  if (e.protocol === 'rtsp')
    return `served here at /${e.path || ''}`;
  if (e.protocol === 'rtmp' && e.destination)
    return e.destination + (e.port !== undefined ? `:${e.port}` : '');
  if (e.ingest_port !== undefined)
    return `${e.ingest_address || '*'}:${e.ingest_port}`;
  if (e.destination)
    return `${e.destination}:${e.port}`;
  return e.port !== undefined ? `*:${e.port}` : '';
}

function when(ts) {
  const d = new Date(ts);
  return isNaN(d) ? ts : d.toLocaleTimeString([], { hour12: false });
}

function uptime(s) {
  s = Math.floor(s || 0);
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  return hh ? `${hh}h ${mm}m` : mm ? `${mm}m ${ss}s` : `${ss}s`;
}

function banner(message, kind = 'error') {
  const b = document.getElementById('banner');
  b.textContent = message || '';
  b.className = `banner banner-${kind}`;
  b.hidden = !message;
  if (message && kind !== 'error')
    setTimeout(() => { if (b.textContent === message) b.hidden = true; }, 4000);
}

async function act(button, fn) {
  if (button)
    button.disabled = true;
  try {
    return await fn();
  } catch (e) {
    banner(e.message);
    return undefined;
  } finally {
    if (button)
      button.disabled = false;
  }
}

// Thumbnails: fetched as JPEG bytes (Accept: image/jpeg, the key in the
// header) into a blob: URL, for the flows on screen that make them
class Thumb {
  constructor(flow) {
    this.flowId = flow.id;
    this.period = Math.max(2, (flow.source_monitor_config || {}).thumbnail_interval_sec || 5) * 1000;
    this.img = h('img', { class: 'thumb', alt: 'thumbnail', 'data-role': 'thumbnail' });
    this.box = h('div', { class: 'thumb-box empty' }, this.img);
    this.url = null;
    this.timer = null;
    this.enabled = Boolean((flow.source_monitor_config || {}).thumbnail_enabled);
    this.box.dataset.empty = this.enabled ? 'no picture' : 'thumbnails off';
    this.running = false;
  }

  setRunning(running) {
    if (running === this.running)
      return;
    this.running = running;
    clearTimeout(this.timer);
    this.timer = null;
    if (running && this.enabled)
      this.timer = setTimeout(() => this.refresh(), 1500);
  }

  async refresh() {
    this.timer = null;
    if (!this.running || !this.box.isConnected)
      return;
    try {
      const blob = await api.thumbnail(this.flowId);
      const url = URL.createObjectURL(blob);
      this.img.src = url;
      if (this.url)
        URL.revokeObjectURL(this.url);
      this.url = url;
      this.box.classList.remove('empty');
      this.box.dataset.loaded = '1';
    } catch (e) {
      // 503 before the first thumbnail, 409 once stopped: try later
    }
    if (this.running && this.box.isConnected)
      this.timer = setTimeout(() => this.refresh(), this.period);
  }

  dispose() {
    clearTimeout(this.timer);
    this.running = false;
    if (this.url)
      URL.revokeObjectURL(this.url);
  }
}

// ----------------------------------------------------------------------
// the flow list

async function listView() {
  const table = h('table', { class: 'flows', id: 'flow-table' },
    h('thead', {}, h('tr', {},
      h('th', {}, ''), h('th', {}, 'Flow'), h('th', {}, 'State'), h('th', {}, 'Active source'),
      h('th', {}, 'Input bitrate'), h('th', { class: 'num' }, 'Failovers'), h('th', {}, 'Alarms'), h('th', {}, ''))));
  const tbody = h('tbody');
  table.append(tbody);
  const empty = h('p', { class: 'empty-list', hidden: true }, 'No flow yet. ', h('a', { href: '#/new' }, 'Create one.'));
  view.replaceChildren(h('section', { class: 'card' },
    h('div', { class: 'card-head' }, h('h1', {}, 'Flows'), h('a', { class: 'button primary', href: '#/new' }, 'New flow')),
    table, empty));
  const rows = new Map();

  function row(flow) {
    const thumb = new Thumb(flow);
    const cells = {
      state: h('td', {}, stateBadge(flow.status)),
      active: h('td', { 'data-role': 'active-source' }, '-'),
      rate: h('td', { class: 'rate' }),
      failovers: h('td', { class: 'num', 'data-role': 'failovers' }, '0'),
      alarms: h('td', { class: 'alarms', 'data-role': 'alarms' }),
    };
    const startStop = h('button', { type: 'button', class: 'small' });
    const tr = h('tr', { 'data-flow': flow.id },
      h('td', { class: 'thumb-cell' }, thumb.box),
      h('td', {}, h('a', { href: `#/flows/${flow.id}`, class: 'flow-name' }, flow.name),
        h('div', { class: 'muted small' }, flow.sources.map((s) => `${s.protocol} ${endpointText(s)}`).join(' + '),
          flow.outputs.length ? ` → ${flow.outputs.length} output${flow.outputs.length > 1 ? 's' : ''}` : '')),
      cells.state, cells.active, cells.rate, cells.failovers, cells.alarms, h('td', {}, startStop));
    const r = { flow, tr, cells, thumb, startStop };
    startStop.addEventListener('click', () => act(startStop, async () => {
      const f = running(r.status) ? await api.stop(flow.id) : await api.start(flow.id);
      update(r, { status: f.status });
    }));
    update(r, lastMetrics.get(flow.id) || { status: flow.status });
    return r;
  }

  function running(status) {
    return status === 'ACTIVE' || status === 'STARTING';
  }

  function update(r, m) {
    r.status = m.status;
    r.cells.state.replaceChildren(stateBadge(m.status));
    r.startStop.textContent = running(m.status) ? 'Stop' : 'Start';
    r.thumb.setRunning(m.status === 'ACTIVE');
    if (m.source_metrics) {
      r.cells.active.textContent = activeText(m);
      r.cells.failovers.textContent = String(m.failover_count || 0);
      r.cells.alarms.replaceChildren(...alarmBadges(m));
    }
    const pts = history.get(`${r.flow.id}/in`);
    const now = pts.length ? pts[pts.length - 1][1] : 0;
    r.cells.rate.replaceChildren(sparkline(pts), h('span', { class: 'rate-now', 'data-role': 'input-rate', 'data-kbps': now }, running(m.status) ? formatKbps(now) : '-'));
  }

  async function load() {
    const flows = await api.flows();
    const seen = new Set();
    for (const f of flows) {
      seen.add(f.id);
      if (!rows.has(f.id)) {
        const r = row(f);
        rows.set(f.id, r);
        tbody.append(r.tr);
      }
    }
    for (const [id, r] of rows)
      if (!seen.has(id))
        drop(id, r);
    empty.hidden = rows.size > 0;
  }

  function drop(id, r) {
    r.thumb.dispose();
    r.tr.remove();
    rows.delete(id);
    empty.hidden = rows.size > 0;
  }

  let reloading = null;
  const reload = () => {
    if (!reloading)
      reloading = load().catch((e) => banner(e.message)).finally(() => { reloading = null; });
  };

  await load();
  return {
    name: 'list',
    metrics(items) {
      let unknown = false;
      for (const m of items) {
        const r = rows.get(m.flow_id);
        if (r)
          update(r, m);
        else
          unknown = true;
      }
      if (unknown)
        reload();
    },
    event(ev) {
      if (ev.flow_id && !rows.has(ev.flow_id))
        reload();
    },
    deleted(id) {
      const r = rows.get(id);
      if (r)
        drop(id, r);
    },
    reconnected: reload,
    dispose() {
      for (const r of rows.values())
        r.thumb.dispose();
    },
  };
}

// ----------------------------------------------------------------------
// a flow

async function flowView(id) {
  let flow = await api.flow(id);
  const events = await api.events(id, 100);
  // the last pushed metrics, unless the flow changed state since
  let m = lastMetrics.get(id);
  if (!m || m.status !== flow.status)
    m = { status: flow.status };
  const thumb = new Thumb(flow);
  const charts = new Map();     // key -> canvas
  let metaTimer = null, metaTries = 0;

  const title = h('h1', {}, flow.name);
  const state = h('span', {}, stateBadge(flow.status));
  const facts = h('div', { class: 'facts' });
  const btnStart = h('button', { type: 'button', id: 'btn-start', class: 'primary' }, 'Start');
  const btnStop = h('button', { type: 'button', id: 'btn-stop' }, 'Stop');
  const btnDelete = h('button', { type: 'button', id: 'btn-delete', class: 'danger' }, 'Delete');
  const contentBadges = h('div', { class: 'alarms', id: 'content-badges', 'data-role': 'alarms' });
  const sourcesBox = h('div', { id: 'sources' });
  const outputsBox = h('div', { id: 'outputs' });
  const mergeBox = h('section', { class: 'card', id: 'merge', hidden: true });
  const metaBox = h('div', { id: 'metadata', class: 'metadata' }, h('p', { class: 'muted' }, 'Shown while the flow runs.'));
  const log = h('ol', { class: 'events', id: 'event-log' });

  btnStart.addEventListener('click', () => act(btnStart, async () => { setFlow(await api.start(id)); }));
  btnStop.addEventListener('click', () => act(btnStop, async () => { setFlow(await api.stop(id)); }));
  btnDelete.addEventListener('click', () => act(btnDelete, async () => {
    if (!confirm(`Delete the flow '${flow.name}'? It is stopped first.`))
      return;
    await api.remove(id);
    location.hash = '#/';
  }));

  view.replaceChildren(
    h('section', { class: 'card flow-head' },
      h('div', { class: 'card-head' },
        h('div', {}, h('a', { href: '#/', class: 'muted small' }, '← Flows'), title, h('div', { class: 'muted small mono' }, id)),
        h('div', { class: 'buttons' }, btnStart, btnStop, btnDelete)),
      h('div', { class: 'head-grid' },
        thumb.box,
        h('div', {}, h('div', { class: 'head-state' }, state, contentBadges), facts))),
    h('section', { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', {}, 'Sources')), sourcesBox),
    h('section', { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', {}, 'Outputs'),
        h('button', { type: 'button', id: 'btn-add-output', onclick: () => outputDialog(null) }, 'Add output')),
      outputsBox),
    mergeBox,
    h('div', { class: 'two' },
      h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Stream'),
        h('button', { type: 'button', class: 'small', onclick: () => loadMetadata(true) }, 'Refresh')), metaBox),
      h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Events')), log)));

  for (const ev of events.slice().reverse())
    addEvent(ev);

  function addEvent(ev) {
    const li = h('li', { class: `ev ev-${ev.severity}`, 'data-type': ev.type, 'data-id': ev.id },
      h('time', {}, when(ev.timestamp)), h('span', { class: 'ev-type' }, ev.type), h('span', { class: 'ev-msg' }, ev.message));
    log.prepend(li);
    while (log.children.length > 300)
      log.lastChild.remove();
  }

  function chart(key, label) {
    let c = charts.get(key);
    if (!c) {
      c = h('canvas', { class: 'chart', 'data-chart': key });
      charts.set(key, c);
    }
    return h('figure', { class: 'chart-box' }, h('figcaption', {}, label), c);
  }

  function renderStructure() {
    const failover = flow.source_failover_config || {};
    const isFailover = failover.state === 'ENABLED' && failover.failover_mode === 'FAILOVER' && flow.sources.length > 1;
    const srcRows = flow.sources.map((s) => {
      const sw = isFailover ? h('button', { type: 'button', class: 'small', 'data-switch': s.name,
        onclick: (e) => act(e.target, async () => { setFlow(await api.activate(id, s.name)); banner(`switching to '${s.name}'`, 'info'); }) }, 'Switch to') : null;
      return h('tr', { 'data-source': s.name },
        h('td', {}, h('strong', {}, s.name), failover.source_priority && failover.source_priority.primary_source === s.name ? h('span', { class: 'muted small' }, ' primary') : null),
        h('td', {}, s.protocol), h('td', { class: 'mono' }, endpointText(s)),
        h('td', { 'data-role': 'conn' }), h('td', { class: 'num', 'data-role': 'rate' }), h('td', { class: 'num', 'data-role': 'packets' }),
        h('td', { class: 'num', 'data-role': 'lost' }), h('td', { class: 'alarms', 'data-role': 'alarms' }), h('td', {}, sw));
    });
    sourcesBox.replaceChildren(
      h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['Name', 'Protocol', 'Endpoint', 'State', 'Bitrate', 'Packets', 'Lost', 'Content', ''].map((t) => h('th', {}, t)))), h('tbody', {}, srcRows)),
      h('div', { class: 'charts' }, flow.sources.map((s) => chart(`src:${s.name}`, `source ${s.name}`))));
    const outRows = flow.outputs.map((o) => h('tr', { 'data-output': o.name },
      h('td', {}, h('strong', {}, o.name)), h('td', {}, o.protocol), h('td', { class: 'mono' }, endpointText(o)),
      h('td', { 'data-role': 'conn' }), h('td', { class: 'num', 'data-role': 'rate' }), h('td', { class: 'num', 'data-role': 'packets' }),
      h('td', { class: 'num', 'data-role': 'disconnections' }),
      h('td', { class: 'buttons' },
        h('button', { type: 'button', class: 'small', 'data-edit': o.name, onclick: () => outputDialog(o) }, 'Edit'),
        h('button', { type: 'button', class: 'small danger', 'data-remove': o.name,
          onclick: (e) => act(e.target, async () => {
            if (confirm(`Remove the output '${o.name}'?`))
              setFlow(await api.removeOutput(id, o.name));
          }) }, 'Remove'))));
    outputsBox.replaceChildren(flow.outputs.length
      ? h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['Name', 'Protocol', 'Destination', 'State', 'Bitrate', 'Packets', 'Disconnections', ''].map((t) => h('th', {}, t)))), h('tbody', {}, outRows))
      : h('p', { class: 'muted' }, 'No output.'),
    h('div', { class: 'charts' }, flow.outputs.map((o) => chart(`out:${o.name}`, `output ${o.name}`))),
    h('div', { class: 'players' }, flow.outputs.filter((o) => o.protocol === 'hls').map(hlsPlayer)));
    for (const key of [...charts.keys()])
      if (!flow.sources.some((s) => key === `src:${s.name}`) && !flow.outputs.some((o) => key === `out:${o.name}`))
        charts.delete(key);
    title.textContent = flow.name;
  }

  // An HLS output, played by the browser itself (Chromium and Safari play
  // HLS natively: no library); the playlist is asked for on Play only
  function hlsPlayer(o) {
    const url = `/hls/${encodeURIComponent(id)}/${encodeURIComponent(o.name)}/index.m3u8`;
    const video = h('video', { controls: true, muted: true, playsinline: true, 'data-hls': o.name });
    const play = h('button', { type: 'button', class: 'small', 'data-play': o.name, onclick: () => {
      video.muted = true;
      video.src = url;
      video.play().catch(() => {});
      play.hidden = true;
    } }, 'Play');
    return h('figure', { class: 'player', 'data-player': o.name }, video,
      h('figcaption', {}, `output ${o.name} (HLS) `, play, h('a', { href: url, class: 'small' }, 'playlist')));
  }

  function setFlow(f) {
    const structure = JSON.stringify([f.sources, f.outputs, f.source_failover_config, f.name]);
    const had = JSON.stringify([flow.sources, flow.outputs, flow.source_failover_config, flow.name]);
    flow = f;
    if (structure !== had)
      renderStructure();
    if (!m.source_metrics || m.status !== f.status)
      updateMetrics({ ...m, status: f.status });
  }

  function cellsOf(tr) {
    const c = {};
    for (const td of tr.querySelectorAll('[data-role]'))
      c[td.dataset.role] = td;
    return c;
  }

  function updateMetrics(nm) {
    const was = m.status;
    m = nm;
    const running = m.status === 'ACTIVE' || m.status === 'STARTING';
    state.replaceChildren(stateBadge(m.status));
    btnStart.disabled = running;
    btnStop.disabled = !running && m.status !== 'ERROR';
    thumb.setRunning(m.status === 'ACTIVE');
    contentBadges.replaceChildren(...alarmBadges(m));
    const f = [];
    if (m.source_metrics) {
      f.push(['Active source', activeText(m)]);
      f.push(['Uptime', running ? uptime(m.uptime_seconds) : '-']);
      f.push(['Failovers', String(m.failover_count || 0)]);
      f.push(['Input', running ? formatKbps(inputKbps(m)) : '-']);
    }
    const fo = flow.source_failover_config || {};
    if (flow.sources.length > 1)
      f.push(['Mode', fo.state === 'ENABLED' ? fo.failover_mode : 'failover off']);
    facts.replaceChildren(...f.map(([k, v]) => h('div', { class: 'fact' }, h('span', { class: 'muted small' }, k), h('strong', { 'data-fact': k }, v))));
    for (const tr of sourcesBox.querySelectorAll('tr[data-source]')) {
      const s = (m.source_metrics || []).find((x) => x.name === tr.dataset.source);
      const c = cellsOf(tr);
      c.conn.replaceChildren(s ? h('span', { class: `conn ${s.connected ? 'up' : 'down'}` }, s.connected ? (s.source_selected ? 'receiving, on air' : 'receiving') : (s.status || 'waiting').toLowerCase()) : '-');
      c.rate.textContent = s && running ? formatKbps(s.bitrate_kbps || 0) : '-';
      c.rate.dataset.kbps = s ? s.bitrate_kbps || 0 : 0;
      c.packets.textContent = s ? String(s.packets_received) : '-';
      c.lost.textContent = s ? String(s.packets_lost) : '-';
      c.alarms.replaceChildren(...(s ? alarmBadges({ source_metrics: [s] }) : []));
      const sw = tr.querySelector('[data-switch]');
      if (sw)
        sw.disabled = !s || !running || s.source_selected || !s.connected;
    }
    for (const tr of outputsBox.querySelectorAll('tr[data-output]')) {
      const o = (m.output_metrics || []).find((x) => x.name === tr.dataset.output);
      const c = cellsOf(tr);
      c.conn.replaceChildren(o ? h('span', { class: `conn ${o.connected ? 'up' : 'down'}` }, o.connected ? 'connected' : (o.status || 'down').toLowerCase()) : '-');
      c.rate.textContent = o && running ? formatKbps(o.bitrate_kbps || 0) : '-';
      c.rate.dataset.kbps = o ? o.bitrate_kbps || 0 : 0;
      c.packets.textContent = o ? String(o.packets_sent) : '-';
      c.disconnections.textContent = o ? String(o.disconnections) : '-';
    }
    for (const [key, canvas] of charts)
      if (canvas.isConnected)
        drawChart(canvas, history.get(`${id}/${key}`));
    renderMerge();
    if (m.status === 'ACTIVE' && was !== 'ACTIVE')
      scheduleMetadata(2000);
    if (m.status !== 'ACTIVE' && was === 'ACTIVE')
      metaBox.replaceChildren(h('p', { class: 'muted' }, 'Shown while the flow runs.'));
  }

  function cell(v) {
    if (v === undefined || v === null)
      return '';
    return typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : String(v);
  }

  function renderMerge() {
    const ms = m.merge_stats;
    const fo = flow.source_failover_config || {};
    mergeBox.hidden = !(fo.state === 'ENABLED' && fo.failover_mode === 'MERGE');
    if (mergeBox.hidden)
      return;
    if (!ms) {
      mergeBox.replaceChildren(h('h2', {}, 'Merge (SMPTE 2022-7)'), h('p', { class: 'muted' }, 'Shown while the flow runs.'));
      return;
    }
    const cols = ['name', 'packets', 'used', 'holes_filled', 'duplicates', 'late', 'foreign', 'lag_ms'];
    mergeBox.replaceChildren(
      h('div', { class: 'card-head' }, h('h2', {}, 'Merge (SMPTE 2022-7)'),
        h('span', { class: `badge ${m.merge_active ? 'badge-ok' : 'badge-warn'}` }, m.merge_active ? 'merging' : 'single leg')),
      h('div', { class: 'facts' }, [['Output packets', ms.output_packets], ['Missing', ms.missing_packets], ['Active legs', ms.active_legs],
        ['Skew', `${(ms.skew_ms || 0).toFixed(1)} ms`], ['Window', `${ms.recovery_window_ms} ms`], ['Restarts', ms.restarts]]
        .map(([k, v]) => h('div', { class: 'fact' }, h('span', { class: 'muted small' }, k), h('strong', {}, String(v))))),
      h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c.replace('_', ' '))))),
        h('tbody', {}, (ms.sources || []).map((s) => h('tr', {}, cols.map((c) => h('td', { class: c === 'name' ? '' : 'num' }, cell(s[c]))))))));
  }

  function scheduleMetadata(ms) {
    clearTimeout(metaTimer);
    metaTimer = setTimeout(() => loadMetadata(false), ms);
  }

  // The programs and streams change with the source, not once a second:
  // read when the flow becomes ACTIVE, after a switch, and on Refresh
  async function loadMetadata(byHand) {
    metaTimer = null;
    if (byHand)
      metaTries = 0;
    if (m.status !== 'ACTIVE' || !metaBox.isConnected)
      return;
    try {
      const md = await api.metadata(id);
      metaTries = 0;
      renderMetadata(md);
    } catch (e) {
      if (e.status === 503 && ++metaTries < 15)
        scheduleMetadata(2000);   // before the PMT
      else if (byHand)
        banner(e.message);
    }
  }

  function renderMetadata(md) {
    const streams = md.streams || [];
    const prog = (md.programs || [])[0];
    metaBox.replaceChildren(
      h('p', { class: 'muted small' }, `source ${md.source || '-'}`, prog ? ` · program ${prog.program_id}${prog.program_name ? ` "${prog.program_name}"` : ''}` : ''),
      streams.length ? h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['#', 'Type', 'Codec', 'Format', 'Bitrate', 'GOP'].map((t) => h('th', {}, t)))),
        h('tbody', {}, streams.map((s) => h('tr', { 'data-stream': s.stream_type },
          h('td', {}, String(s.index)), h('td', {}, s.stream_type), h('td', { 'data-role': 'codec' }, s.codec + (s.profile ? ` ${s.profile}` : '')),
          h('td', { 'data-role': 'format' }, s.stream_type === 'video' ? `${s.width}×${s.height} @ ${s.frame_rate}` : s.stream_type === 'audio' ? `${s.channels} ch, ${s.sample_rate} Hz` : ''),
          h('td', { class: 'num' }, s.bit_rate ? formatKbps(s.bit_rate / 1000) : '-'),
          h('td', { 'data-role': 'gop' }, s.gop ? `${s.gop.length} (I ${s.gop.frames.I || 0} / P ${s.gop.frames.P || 0} / B ${s.gop.frames.B || 0})` : ''))))) :
        h('p', { class: 'muted' }, 'No stream yet.'));
  }

  // Adds (@out null) or edits an output; the API's error at its field
  function outputDialog(out) {
    const dialog = document.getElementById('output-dialog');
    const form = document.getElementById('output-form');
    const fields = document.getElementById('output-fields');
    const err = document.getElementById('output-error');
    document.getElementById('output-title').textContent = out ? `Edit output ${out.name}` : 'Add an output';
    fields.replaceChildren(endpointEditor('', OUTPUT_FIELDS, out || {}, { editing: Boolean(out), name: `out${flow.outputs.length + 1}` }));
    clearErrors(form);
    err.hidden = true;
    form.onsubmit = (e) => {
      e.preventDefault();
      act(document.getElementById('output-save'), async () => {
        const body = readEndpoint(fields);
        try {
          setFlow(out ? await api.editOutput(id, out.name, body) : await api.addOutput(id, body));
          dialog.close();
        } catch (e2) {
          if (e2.status === 400 || e2.status === 409)
            showError(form, { field: (e2.field || '').replace(/^outputs\[\d+\]\./, ''), message: e2.message }, err);
          else
            throw e2;
        }
      });
    };
    document.getElementById('output-cancel').onclick = () => dialog.close();
    dialog.showModal();
  }

  renderStructure();
  updateMetrics(m);
  if (m.status === 'ACTIVE')
    scheduleMetadata(0);
  return {
    name: 'flow',
    flowId: id,
    metrics(items) {
      const nm = items.find((x) => x.flow_id === id);
      if (nm)
        updateMetrics(nm);
    },
    event(ev) {
      if (ev.flow_id !== id)
        return;
      addEvent(ev);
      if (ev.type === 'source_failover' || ev.type === 'primary_recovered' || ev.type === 'source_active')
        scheduleMetadata(2500);
    },
    deleted(fid) {
      if (fid === id) {
        banner('this flow was deleted', 'info');
        location.hash = '#/';
      }
    },
    async reconnected() {
      setFlow(await api.flow(id));
      const evs = await api.events(id, 100);
      log.replaceChildren();
      for (const ev of evs.slice().reverse())
        addEvent(ev);
    },
    dispose() {
      thumb.dispose();
      clearTimeout(metaTimer);
      const d = document.getElementById('output-dialog');
      if (d.open)
        d.close();
    },
  };
}

// ----------------------------------------------------------------------
// a new flow

function newView() {
  const form = h('form', { id: 'new-flow', class: 'card', novalidate: true });
  const err = h('p', { class: 'error', id: 'form-error', hidden: true });
  const sources = h('div', { class: 'endpoints', id: 'form-sources' });
  const outputs = h('div', { class: 'endpoints', id: 'form-outputs' });
  const name = h('input', { name: 'name', id: 'flow-name', autocomplete: 'off' });
  const description = h('input', { name: 'description', autocomplete: 'off' });
  const foState = h('select', { name: 'source_failover_config.state' }, ['ENABLED', 'DISABLED'].map((x) => h('option', { value: x }, x)));
  const foMode = h('select', { name: 'source_failover_config.failover_mode' }, ['FAILOVER', 'MERGE'].map((x) => h('option', { value: x }, x)));
  const foWindow = h('input', { name: 'source_failover_config.recovery_window', placeholder: '100', inputmode: 'numeric' });
  const foPrimary = h('input', { name: 'source_failover_config.source_priority.primary_source', placeholder: 'the first source' });
  const thumbs = h('input', { type: 'checkbox', name: 'source_monitor_config.thumbnail_enabled', checked: true });
  const quality = h('input', { type: 'checkbox', name: 'source_monitor_config.content_quality_enabled', checked: true });
  const interval = h('input', { name: 'source_monitor_config.thumbnail_interval_sec', placeholder: '5', inputmode: 'numeric' });
  const failoverBox = h('fieldset', { class: 'group', hidden: true },
    h('legend', {}, 'Two sources'),
    h('div', { class: 'row' },
      fieldInput('source_failover_config.state', 'Failover', foState),
      fieldInput('source_failover_config.failover_mode', 'Mode', foMode),
      fieldInput('source_failover_config.recovery_window', 'Recovery window (ms)', foWindow),
      fieldInput('source_failover_config.source_priority.primary_source', 'Primary source', foPrimary)));
  const addSource = h('button', { type: 'button', id: 'btn-second-source' }, 'Add a second source');

  function sourceBox(i) {
    const box = h('div', { class: 'endpoint-box' },
      h('h3', {}, i === 0 ? 'Source' : 'Second source'),
      endpointEditor(`sources[${i}]`, SOURCE_FIELDS, {}, { name: i === 0 ? 'primary' : 'backup' }));
    if (i === 1)
      box.append(h('button', { type: 'button', class: 'small', onclick: () => { box.remove(); failoverBox.hidden = true; addSource.hidden = false; } }, 'Remove this source'));
    return box;
  }
  function outputBox() {
    const box = h('div', { class: 'endpoint-box' });
    const renumber = () => [...outputs.children].forEach((b, i) => {
      b.querySelector('h3').textContent = `Output ${i + 1}`;
      const ed = b.querySelector('.endpoint');
      const old = ed.dataset.prefix;
      ed.dataset.prefix = `outputs[${i}]`;
      for (const f of b.querySelectorAll('[data-field]'))
        f.dataset.field = f.dataset.field.replace(old, `outputs[${i}]`);
    });
    box.append(h('h3', {}, 'Output'),
      endpointEditor(`outputs[${outputs.children.length}]`, OUTPUT_FIELDS, {}, { name: `out${outputs.children.length + 1}` }),
      h('button', { type: 'button', class: 'small', onclick: () => { box.remove(); renumber(); } }, 'Remove this output'));
    outputs.append(box);
    renumber();
  }
  sources.append(sourceBox(0));
  addSource.addEventListener('click', () => {
    sources.append(sourceBox(1));
    failoverBox.hidden = false;
    addSource.hidden = true;
  });

  form.append(
    h('div', { class: 'card-head' }, h('h1', {}, 'New flow')),
    h('div', { class: 'row' }, fieldInput('name', 'Name', name), fieldInput('description', 'Description', description)),
    sources, addSource, failoverBox,
    h('fieldset', { class: 'group' }, h('legend', {}, 'Monitoring'),
      h('div', { class: 'row' },
        fieldInput('source_monitor_config.thumbnail_enabled', 'Thumbnails', thumbs),
        fieldInput('source_monitor_config.content_quality_enabled', 'Black / frozen / silent alarms', quality),
        fieldInput('source_monitor_config.thumbnail_interval_sec', 'Thumbnail every (s)', interval))),
    h('h2', {}, 'Outputs'), outputs,
    h('button', { type: 'button', id: 'btn-add-form-output', onclick: outputBox }, 'Add an output'),
    err,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'btn-create' }, 'Create the flow')));
  outputBox();

  const num = (v) => (/^-?\d+$/.test(v.trim()) ? Number(v) : v.trim());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(form.querySelector('#btn-create'), async () => {
      const body = { name: name.value.trim() };
      if (description.value.trim())
        body.description = description.value.trim();
      body.sources = [...sources.querySelectorAll('.endpoint')].map(readEndpoint);
      body.outputs = [...outputs.querySelectorAll('.endpoint')].map(readEndpoint);
      if (body.sources.length > 1) {
        const fo = { state: foState.value, failover_mode: foMode.value };
        if (foWindow.value.trim())
          fo.recovery_window = num(foWindow.value);
        if (foPrimary.value.trim())
          fo.source_priority = { primary_source: foPrimary.value.trim() };
        body.source_failover_config = fo;
      }
      body.source_monitor_config = { thumbnail_enabled: thumbs.checked, content_quality_enabled: quality.checked };
      if (interval.value.trim())
        body.source_monitor_config.thumbnail_interval_sec = num(interval.value);
      try {
        const f = await api.create(body);
        location.hash = `#/flows/${f.id}`;
      } catch (e2) {
        if (e2.status === 400)
          showError(form, e2, err);
        else
          throw e2;
      }
    });
  });
  view.replaceChildren(form);
  name.focus();
  return { name: 'new' };
}

// ----------------------------------------------------------------------
// the router and the live feed

async function route() {
  if (current && current.dispose)
    current.dispose();
  current = null;
  banner('');
  const hash = location.hash || '#/';
  let m;
  try {
    if ((m = /^#\/flows\/([^/]+)$/.exec(hash)))
      current = await flowView(decodeURIComponent(m[1]));
    else if (hash === '#/new')
      current = newView();
    else
      current = await listView();
  } catch (e) {
    view.replaceChildren(h('section', { class: 'card' }, h('h1', {}, 'Not available'), h('p', { class: 'error' }, e.message),
      h('p', {}, h('a', { href: '#/' }, 'Back to the flows'))));
  }
  document.body.dataset.view = current ? current.name : 'error';
}

live.addEventListener('metrics', (e) => {
  const t = Date.parse(e.detail.timestamp) || Date.now();
  const now = Date.now();
  for (const m of e.detail.flows || []) {
    lastMetrics.set(m.flow_id, m);
    const running = m.status === 'ACTIVE';
    history.add(`${m.flow_id}/in`, now, running ? inputKbps(m) : 0);
    for (const s of m.source_metrics || [])
      history.add(`${m.flow_id}/src:${s.name}`, now, running ? s.bitrate_kbps || 0 : 0);
    for (const o of m.output_metrics || [])
      history.add(`${m.flow_id}/out:${o.name}`, now, running ? o.bitrate_kbps || 0 : 0);
  }
  void t;
  if (current && current.metrics)
    current.metrics(e.detail.flows || []);
});
live.addEventListener('event', (e) => {
  if (current && current.event)
    current.event(e.detail.event);
});
live.addEventListener('flow_deleted', (e) => {
  lastMetrics.delete(e.detail.flow_id);
  history.dropFlow(e.detail.flow_id);
  if (current && current.deleted)
    current.deleted(e.detail.flow_id);
});
live.addEventListener('open', () => {
  // back after a break: what changed meanwhile comes by REST once
  if (current && current.reconnected && live.everOpened)
    Promise.resolve(current.reconnected()).catch((err) => banner(err.message));
  live.everOpened = true;
});
live.addEventListener('state', (e) => {
  const el = document.getElementById('live-state');
  const { state } = e.detail;
  el.className = `live ${state === 'live' ? 'on' : 'off'}`;
  el.textContent = { live: 'live', connecting: 'connecting…', offline: 'reconnecting…', unavailable: 'no live updates' }[state] || state;
  el.title = e.detail.detail || 'live updates (WebSocket)';
  document.body.dataset.live = state;
});

document.getElementById('key-button').addEventListener('click', () => askKey(''));
document.getElementById('key-forget').addEventListener('click', () => {
  setKey(null);
  document.getElementById('key-input').value = '';
  document.getElementById('key-dialog').close();
});
document.getElementById('key-button').hidden = getKey() === null;

window.addEventListener('hashchange', route);
route().then(() => live.start());
