// mroute dashboard: the fields of a source and of an output per protocol
// (docs/api.md, "Objects"), the form parts that edit them, and the API's
// 400s shown at the field they name ("sources[0].ingest_port").  The page
// checks nothing itself: the API's validation is the one that counts, so
// a value is sent as typed and the answer tells what is wrong.

// what a source can be, and what an output can be (rtsp, hls: served by
// the controller itself)
export const PROTOCOLS = ['udp', 'rtp', 'rtp-fec', 'rist', 'srt-listener', 'srt-caller', 'rtmp'];
export const OUTPUT_PROTOCOLS = [...PROTOCOLS, 'rtsp', 'hls'];

const LISTEN = ['udp', 'rtp', 'rtp-fec', 'rist', 'srt-listener', 'rtmp'];
const RTPISH = ['udp', 'rtp', 'rtp-fec'];
const SRT = ['srt-listener', 'srt-caller'];
const ALGORITHMS = ['', 'aes128', 'aes192', 'aes256'];

export const SOURCE_FIELDS = [
  { key: 'ingest_port', label: 'Ingest port', type: 'int', on: LISTEN },
  { key: 'ingest_address', label: 'Ingest address', on: LISTEN, hint: 'all addresses, or a multicast group' },
  { key: 'source_address', label: 'SSM sender', on: RTPISH, hint: 'multicast only' },
  { key: 'interface', label: 'Interface', on: RTPISH, hint: 'multicast only' },
  { key: 'destination', label: 'Destination', on: ['srt-caller', 'rtmp'], hint: 'host; rtmp: rtmp://host/app to pull, or empty and an ingest port to listen' },
  { key: 'port', label: 'Port', type: 'int', on: ['srt-caller'] },
  { key: 'max_latency', label: 'Latency (ms)', type: 'int', on: [...SRT, 'rist'] },
  { key: 'min_latency', label: 'Min latency (ms)', type: 'int', on: SRT },
  { key: 'max_bitrate', label: 'Max bitrate (bytes/s)', type: 'int', on: SRT },
  { key: 'stream_id', label: 'Stream id', on: [...SRT, 'rtmp'], hint: 'rtmp: the stream key publishers push to' },
  { key: 'decryption.algorithm', label: 'Decryption', type: 'select', options: ALGORITHMS, on: SRT },
  { key: 'decryption.passphrase', label: 'Passphrase', type: 'password', on: SRT },
  { key: 'description', label: 'Description', on: PROTOCOLS },
];

export const OUTPUT_FIELDS = [
  { key: 'destination', label: 'Destination', on: PROTOCOLS.filter((p) => p !== 'srt-listener'), hint: 'host, or rtmp://host/app' },
  { key: 'port', label: 'Port', type: 'int', on: PROTOCOLS },
  { key: 'ttl', label: 'TTL', type: 'int', on: RTPISH, hint: 'multicast only' },
  { key: 'dscp', label: 'DSCP', type: 'int', on: RTPISH },
  { key: 'interface', label: 'Interface', on: RTPISH, hint: 'multicast only' },
  { key: 'max_latency', label: 'Latency (ms)', type: 'int', on: [...SRT, 'rist'] },
  { key: 'min_latency', label: 'Min latency (ms)', type: 'int', on: SRT },
  { key: 'max_bitrate', label: 'Max bitrate (bytes/s)', type: 'int', on: SRT },
  { key: 'stream_id', label: 'Stream id', on: SRT },
  { key: 'stream_key', label: 'Stream key', type: 'password', on: ['rtmp'] },
  { key: 'path', label: 'Path', on: ['rtsp'], hint: 'rtsp://this-host:8554/PATH' },
  { key: 'user', label: 'User', on: ['rtsp'], hint: 'optional' },
  { key: 'password', label: 'Password', type: 'password', on: ['rtsp'], hint: 'optional, with a user' },
  { key: 'segment_duration', label: 'Segment (s)', type: 'int', on: ['hls'], hint: 'default 2' },
  { key: 'window', label: 'Segments in the playlist', type: 'int', on: ['hls'], hint: 'default 6' },
  { key: 'encryption.algorithm', label: 'Encryption', type: 'select', options: ALGORITHMS, on: SRT },
  { key: 'encryption.passphrase', label: 'Passphrase', type: 'password', on: SRT },
  { key: 'description', label: 'Description', on: OUTPUT_PROTOCOLS },
];

// An element: h('tag', {attr: value, class: ...}, children...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false)
      continue;
    if (k === 'class')
      el.className = v;
    else if (k.startsWith('on'))
      el.addEventListener(k.slice(2), v);
    else if (k === 'value')
      el.value = v;
    else
      el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false)
      continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A labelled input for @field, its data-field the API's path of it
export function fieldInput(path, label, input, hint) {
  return h('label', { class: 'field', 'data-field': path },
    h('span', { class: 'field-label' }, label),
    input,
    hint ? h('span', { class: 'field-hint' }, hint) : null,
    h('span', { class: 'field-error', role: 'alert' }));
}

function get(obj, key) {
  return key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

// The editor of one source or output: name, protocol and the fields of
// that protocol; @prefix is the API's path of the object ("sources[0]",
// "outputs[1]", "" for an output edited alone)
export function endpointEditor(prefix, defs, value = {}, opts = {}) {
  const p = (k) => (prefix ? `${prefix}.${k}` : k);
  const protocols = defs === OUTPUT_FIELDS ? OUTPUT_PROTOCOLS : PROTOCOLS;
  const protocol = h('select', { name: p('protocol'), 'data-key': 'protocol' },
    protocols.map((x) => h('option', { value: x }, x)));
  protocol.value = value.protocol || opts.protocol || 'udp';
  const box = h('div', { class: 'endpoint', 'data-prefix': prefix });
  box.append(
    fieldInput(p('name'), 'Name', h('input', { name: p('name'), 'data-key': 'name', value: value.name || opts.name || '', autocomplete: 'off' })),
    fieldInput(p('protocol'), 'Protocol', protocol));
  const rows = [];
  for (const d of defs) {
    let input;
    const current = get(value, d.key);
    if (d.type === 'select') {
      input = h('select', { name: p(d.key), 'data-key': d.key }, d.options.map((o) => h('option', { value: o }, o || 'none')));
      input.value = current || '';
    } else {
      input = h('input', {
        name: p(d.key), 'data-key': d.key, 'data-type': d.type || 'text',
        type: d.type === 'password' ? 'password' : 'text',
        inputmode: d.type === 'int' ? 'numeric' : undefined,
        autocomplete: d.type === 'password' ? 'new-password' : 'off',
        value: current === undefined ? '' : String(current),
        placeholder: d.type === 'password' && opts.editing ? 'unchanged' : undefined,
      });
    }
    const row = fieldInput(p(d.key), d.label, input, d.hint);
    row.dataset.on = d.on.join(' ');
    rows.push(row);
    box.append(row);
  }
  const sync = () => {
    for (const r of rows)
      r.hidden = !r.dataset.on.split(' ').includes(protocol.value);
  };
  protocol.addEventListener('change', sync);
  sync();
  return box;
}

// The object an endpointEditor holds: empty fields and hidden ones left
// out; integers as numbers when they are integers, otherwise as typed (the
// API then names the field)
export function readEndpoint(box) {
  const out = {};
  for (const input of box.querySelectorAll('[data-key]')) {
    const row = input.closest('.field');
    if (row && row.hidden)
      continue;
    const raw = input.value.trim();
    if (raw === '')
      continue;
    let v = raw;
    if (input.dataset.type === 'int' && /^-?\d+$/.test(raw))
      v = Number(raw);
    const keys = input.dataset.key.split('.');
    let o = out;
    for (const k of keys.slice(0, -1))
      o = o[k] = o[k] || {};
    o[keys[keys.length - 1]] = v;
  }
  return out;
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field.invalid'))
    el.classList.remove('invalid');
  for (const el of form.querySelectorAll('.field-error'))
    el.textContent = '';
}

// Shows the API's error at the field it names, or in @fallback: the
// field's own path, else the nearest enclosing one shown ("source." is
// the first of "sources")
export function showError(form, err, fallback) {
  clearErrors(form);
  fallback.hidden = true;
  let field = err.field || '';
  if (field.startsWith('source.'))
    field = 'sources[0].' + field.slice(7);
  const rows = [...form.querySelectorAll('.field[data-field]')].filter((r) => !r.hidden);
  for (let f = field; f; f = f.replace(/(\.[^.]*|\[\d+\])$/, '')) {
    const row = rows.find((r) => r.dataset.field === f);
    if (row) {
      row.classList.add('invalid');
      row.querySelector('.field-error').textContent = err.message;
      const input = row.querySelector('input, select');
      if (input)
        input.focus();
      return;
    }
    if (!/(\.[^.]*|\[\d+\])$/.test(f))
      break;
  }
  fallback.textContent = err.message;
  fallback.hidden = false;
}
