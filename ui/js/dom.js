// Small DOM helpers: build elements without innerHTML (text is always text), and format
// the values the catalog returns (digests, times, paths).

/** h('a', {href: '/x', class: 'k'}, 'text', child...) -> Element. `on*` attrs are listeners. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** Appends children; arrays are flattened and null/false skipped, as in h(). */
export function add(el, ...children) {
  append(el, children);
  return el;
}

/** Replaces an element's children; arrays are flattened and null/false skipped, as in h(). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** A labelled form control: the label names the control alone (not the control's value). */
export function field(id, text, control) {
  return h('span', { class: 'field' }, h('label', { for: id }, text), control);
}

/** A link inside the single-page app (the router intercepts it). */
export function link(href, ...children) {
  return h('a', { href, 'data-nav': true }, ...children);
}

export const enc = encodeURIComponent;

export function componentHref(name, version) {
  return `/components/${name.split('/').map(enc).join('/')}${version ? `?version=${enc(version)}` : ''}`;
}
export const teamHref = (name) => `/teams/${enc(name)}`;
export const imageHref = (digest) => `/images/${enc(digest)}`;
export const appHref = (name, q) => `/applications/${enc(name)}${q ? `?${q}` : ''}`;
export const vulnHref = (id) => `/vulnerabilities/${enc(id)}`;
export function blastHref(target) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(target)) if (v !== null && v !== undefined && v !== '') q.set(k, v);
  return `/blast?${q}`;
}
export function inventoryHref(scope) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(scope)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `/inventory?${s}` : '/inventory';
}

/** A run's share of its workload's traffic ("canary 10%", "stable 90%", "0% (idle)"), as a
 * tag; null when the deploy tool reported none. */
export function shareTag(r) {
  if (r.trafficPercent == null) return null;
  const track = r.track ? `${r.track.toLowerCase()} ` : '';
  const idle = !r.track && r.trafficPercent === 0 ? ' (idle)' : '';
  return h('span', { class: 'tag share', title: 'Share of the workload\'s traffic' }, `${track}${r.trafficPercent}%${idle}`);
}

export function shortDigest(d) {
  if (!d) return '';
  const [alg, hex] = d.includes(':') ? d.split(':', 2) : ['', d];
  return `${alg ? `${alg}:` : ''}${hex.slice(0, 12)}`;
}

/** A <time> with the absolute time in the title and a relative one as text. */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  return h('time', { datetime: iso, title: d.toISOString() }, relative(d));
}

export function relative(d) {
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  const abs = Math.abs(s);
  const fmt = (n, u) => `${n} ${u}${n === 1 ? '' : 's'}`;
  let t;
  if (abs < 45) t = 'seconds';
  else if (abs < 3600) t = fmt(Math.round(abs / 60), 'minute');
  else if (abs < 86400 * 2) t = fmt(Math.round(abs / 3600), 'hour');
  else t = fmt(Math.round(abs / 86400), 'day');
  return s >= 0 ? `${t} ago` : `in ${t}`;
}

export function table(caption, columns, rows, opts = {}) {
  const t = h('table', { class: opts.class },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', { class: r.__class || null }, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(r)))))));
  return h('div', { class: 'table-wrap' }, t);
}

export function empty(text) {
  return h('p', { class: 'muted' }, text);
}

export function errorBox(e) {
  return h('div', { class: 'error', role: 'alert' }, String(e && e.message ? e.message : e));
}

export function tags(list, cls) {
  return (list || []).map((t) => h('span', { class: `tag${cls ? ` ${cls}` : ''}` }, t));
}

/** The link to a commit of a source repository, when the host's URL scheme is known. */
export function revisionLink(source, revision) {
  if (!revision) return h('span', { class: 'muted' }, '—');
  const short = revision.length > 12 ? revision.slice(0, 12) : revision;
  const code = h('code', { title: revision }, short);
  if (!source || !/^https?:\/\//.test(source)) return code;
  const base = source.replace(/\.git$/, '').replace(/\/$/, '');
  const url = /gitlab/.test(base) ? `${base}/-/commit/${revision}` : `${base}/commit/${revision}`;
  return h('a', { href: url, rel: 'noopener noreferrer', title: `${revision} in ${base}` }, code);
}

export function setTitle(...parts) {
  document.title = [...parts.filter(Boolean), 'catalog'].join(' · ');
}

export function announce(text) {
  const a = document.getElementById('announce');
  if (a) a.textContent = text;
}

export const nf = new Intl.NumberFormat('en');

/**
 * A Relay connection shown in `slot` as `view(rows)`, with a "Show more" button while the
 * list goes on: `next(after)` fetches the page after that cursor (resolving to the
 * connection, or null when the view was left), and its rows join those shown.
 */
export function paged(slot, conn, view, next) {
  const rows = [...conn.nodes];
  let after = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
  const show = () => {
    fill(slot, view(rows));
    if (!after) return;
    const more = h('button', { type: 'button', class: 'more' }, `Show more (${nf.format(conn.totalCount - rows.length)} not shown)`);
    more.addEventListener('click', async () => {
      more.disabled = true;
      let page;
      try {
        page = await next(after);
      } catch (e) {
        if (e.name === 'AbortError') return;
        more.disabled = false;
        add(slot, errorBox(e));
        return;
      }
      if (!page) return;
      rows.push(...page.nodes);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      show();
    });
    add(slot, more);
  };
  show();
  return slot;
}
