// The dashboard shell: a router over real paths (every view is a deep link; back and
// forward work), the theme switch, the `/` shortcut and the live connection.

import { add, errorBox, h } from './dom.js';
import * as live from './live.js';
import { initSearch } from './search.js';
import * as home from './views/home.js';
import * as searchPage from './views/search.js';
import * as component from './views/component.js';
import * as blast from './views/blast.js';
import * as inventory from './views/inventory.js';
import * as applications from './views/applications.js';
import * as teams from './views/teams.js';
import * as image from './views/image.js';
import * as vulnerability from './views/vulnerability.js';
import * as releases from './views/releases.js';
import * as notifications from './views/notifications.js';

const ROUTES = [
  [/^\/$/, home.render],
  [/^\/search$/, searchPage.render],
  [/^\/components\/?$/, component.renderList],
  [/^\/components\/(.+)$/, component.render],
  [/^\/blast$/, blast.render],
  [/^\/inventory$/, inventory.render],
  [/^\/applications\/?$/, applications.renderList],
  [/^\/applications\/(.+)$/, applications.render],
  [/^\/teams\/?$/, teams.renderList],
  [/^\/teams\/(.+)$/, teams.render],
  [/^\/images\/(.+)$/, image.render],
  [/^\/vulnerabilities\/(.+)$/, vulnerability.render],
  [/^\/releases$/, releases.render],
  [/^\/notifications$/, notifications.render],
];

const main = document.getElementById('view');
let current = null;

export function navigate(url, { replace = false } = {}) {
  const u = new URL(url, location.href);
  if (u.origin !== location.origin) {
    location.href = u.href;
    return;
  }
  if (replace) history.replaceState(null, '', u.pathname + u.search + u.hash);
  else history.pushState(null, '', u.pathname + u.search + u.hash);
  route(true);
}

async function route(focus) {
  if (current) {
    current.abort.abort();
    for (const f of current.cleanups) f();
  }
  const abort = new AbortController();
  const cleanups = [];
  current = { abort, cleanups };
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  for (const a of document.querySelectorAll('.top nav a')) {
    const here = path === a.getAttribute('href') || path.startsWith(`${a.getAttribute('href')}/`);
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const found = ROUTES.find(([re]) => re.test(path));
  main.replaceChildren();
  // Focus moves to the new view when navigation starts, never when its data lands: a slow
  // view finishing later must not pull focus out of the search box someone is typing in.
  if (focus) main.focus({ preventScroll: true });
  if (!found) {
    add(main, h('h1', {}, 'Not found'), h('p', {}, 'No view lives at ', h('code', {}, path), '.'));
    return;
  }
  const m = path.match(found[0]);
  let rest = '';
  try {
    rest = m[1] ? m[1].split('/').map(decodeURIComponent).join('/') : '';
  } catch {
    add(main, h('h1', {}, 'Not found'), h('p', { class: 'error', role: 'alert' }, 'This link is not valid: it has a broken %-escape.'));
    return;
  }
  const ctx = {
    main,
    params,
    rest,
    signal: abort.signal,
    onLeave: (f) => cleanups.push(f),
    navigate,
    alive: () => current && current.abort === abort,
  };
  try {
    await found[1](ctx);
  } catch (e) {
    if (e.name === 'AbortError' || !ctx.alive()) return;
    add(main, errorBox(e));
  }
}

// In-app links: every <a data-nav> (and plain same-origin links to views) are routed here.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[data-nav]');
  if (!a || a.target) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
  window.scrollTo(0, 0);
});
window.addEventListener('popstate', () => route(true));

// `/` focuses the search box from anywhere but a text field.
document.addEventListener('keydown', (e) => {
  if (e.key !== '/' || e.metaKey || e.ctrlKey || e.altKey) return;
  const t = e.target;
  if (t.closest && t.closest('input, textarea, select, [contenteditable="true"]')) return;
  e.preventDefault();
  const s = document.getElementById('search-input');
  s.focus();
  s.select();
});

// Theme: follows the system until chosen; the choice is kept.
const THEMES = ['auto', 'light', 'dark'];
function applyTheme(t) {
  if (t === 'auto') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', t);
  const b = document.getElementById('theme');
  b.setAttribute('aria-label', `Colour theme: ${t === 'auto' ? 'follows the system' : t}. Change`);
  b.title = b.getAttribute('aria-label');
  b.textContent = t === 'dark' ? '☾' : t === 'light' ? '☀' : '◐';
}
applyTheme(localStorage.getItem('catalog-theme') || 'auto');
document.getElementById('theme').addEventListener('click', () => {
  const now = localStorage.getItem('catalog-theme') || 'auto';
  const next = THEMES[(THEMES.indexOf(now) + 1) % THEMES.length];
  localStorage.setItem('catalog-theme', next);
  applyTheme(next);
});

initSearch(navigate);
live.start();
route(false);
