// mroute dashboard: the REST API (docs/api.md).  The API key, when the
// controller asks for one (a 401), is asked of the user once and kept in
// this tab only (sessionStorage); it goes in X-API-Key and nowhere else.

const KEY_ITEM = 'mroute.api_key';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || ('HTTP ' + status));
    this.status = status;
    this.field = body ? body.field : undefined;
    this.body = body;
  }
}

export function getKey() {
  return sessionStorage.getItem(KEY_ITEM);
}

export function setKey(key) {
  if (key)
    sessionStorage.setItem(KEY_ITEM, key);
  else
    sessionStorage.removeItem(KEY_ITEM);
}

// One prompt at a time, however many requests were refused
let keyPrompt = null;

export function askKey(message) {
  if (keyPrompt)
    return keyPrompt;
  const dialog = document.getElementById('key-dialog');
  const input = document.getElementById('key-input');
  const error = document.getElementById('key-error');
  document.getElementById('key-button').hidden = false;
  error.textContent = message || '';
  error.hidden = !message;
  input.value = '';
  keyPrompt = new Promise((resolve) => {
    const done = () => {
      dialog.removeEventListener('close', done);
      keyPrompt = null;
      const key = input.value.trim();
      input.value = '';
      if (key)
        setKey(key);
      resolve(Boolean(key));
    };
    dialog.addEventListener('close', done);
  });
  if (!dialog.open)
    dialog.showModal();
  return keyPrompt;
}

// fetch() with the key; answers {status, headers, body}: body is the JSON
// (or null for a 204), or a Blob with {blob: true}.  A 401 asks for the key
// and tries again; other errors throw ApiError (status, field).
export async function request(method, path, body, opts = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = {};
    const key = getKey();
    if (key)
      headers['X-API-Key'] = key;
    if (opts.accept)
      headers['Accept'] = opts.accept;
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    if (r.status === 401 && attempt < 5) {
      let msg = '';
      try { msg = (await r.json()).error; } catch (e) { /* not JSON */ }
      const ok = await askKey(key ? msg : '');
      if (!ok)
        throw new ApiError(401, { error: msg || 'an API key is needed' });
      continue;
    }
    if (opts.blob && r.ok)
      return { status: r.status, headers: r.headers, body: await r.blob() };
    let data = null;
    if (r.status !== 204) {
      try { data = await r.json(); } catch (e) { data = null; }
    }
    if (!r.ok)
      throw new ApiError(r.status, data);
    return { status: r.status, headers: r.headers, body: data };
  }
}

export const api = {
  flows: () => request('GET', '/v1/flows').then((r) => r.body.flows),
  flow: (id) => request('GET', `/v1/flows/${enc(id)}`).then((r) => r.body),
  create: (body) => request('POST', '/v1/flows', body).then((r) => r.body),
  remove: (id) => request('DELETE', `/v1/flows/${enc(id)}`),
  start: (id) => request('POST', `/v1/flows/${enc(id)}/start`).then((r) => r.body),
  stop: (id) => request('POST', `/v1/flows/${enc(id)}/stop`).then((r) => r.body),
  activate: (id, name) =>
    request('POST', `/v1/flows/${enc(id)}/source/${enc(name)}/activate`).then((r) => r.body),
  addOutput: (id, out) => request('POST', `/v1/flows/${enc(id)}/outputs`, out).then((r) => r.body),
  editOutput: (id, name, out) =>
    request('PUT', `/v1/flows/${enc(id)}/outputs/${enc(name)}`, out).then((r) => r.body),
  removeOutput: (id, name) =>
    request('DELETE', `/v1/flows/${enc(id)}/outputs/${enc(name)}`).then((r) => r.body),
  metrics: (id) => request('GET', `/v1/flows/${enc(id)}/metrics`).then((r) => r.body),
  events: (id, limit = 100) =>
    request('GET', `/v1/flows/${enc(id)}/events?limit=${limit}`).then((r) => r.body.events),
  metadata: (id) => request('GET', `/v1/flows/${enc(id)}/metadata`).then((r) => r.body),
  thumbnail: (id) => request('GET', `/v1/flows/${enc(id)}/thumbnail`, undefined,
    { accept: 'image/jpeg', blob: true }).then((r) => r.body),
  ticket: () => request('POST', '/v1/ws/tickets').then((r) => r.body),
};

function enc(s) {
  return encodeURIComponent(s);
}
