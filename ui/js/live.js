// Live updates: one catalogChanged subscription for the whole tab. Views register what
// they care about (a test on the change's kind and subjects) and a refresh; refreshes are
// coalesced so a burst of events costs one re-query. After a reconnect every view refreshes,
// since changes may have been missed while the socket was down.

import { subscribe, graphql } from './api.js';

const listeners = new Set();
const recent = [];
const feedListeners = new Set();
let wasUp = null;

const QUERY = graphql`subscription { catalogChanged { seq at kind subjects summary } }`;

export function start() {
  const badge = document.getElementById('live');
  subscribe(QUERY, {}, (data) => {
    const c = data.catalogChanged;
    recent.unshift(c);
    recent.length = Math.min(recent.length, 50);
    for (const f of feedListeners) f(c);
    for (const l of listeners) if (l.wants(c)) l.schedule();
  }, (up) => {
    if (badge) {
      badge.textContent = up ? 'live' : 'reconnecting…';
      badge.className = `live ${up ? 'on' : 'off'}`;
      badge.title = up ? 'Live: changes appear as the catalog records them' : 'Live updates interrupted; reconnecting';
    }
    if (up && wasUp === false) for (const l of listeners) l.schedule();
    wasUp = up;
  });
}

/**
 * Calls `refresh()` (at most every 300 ms) when a change passes `wants(change)`.
 * Returns a function that stops listening; views call it when they are left.
 */
export function onChange(wants, refresh) {
  let timer = null;
  const l = {
    wants,
    schedule() {
      if (timer) return;
      timer = setTimeout(() => { timer = null; refresh(); }, 300);
    },
  };
  listeners.add(l);
  return () => { clearTimeout(timer); listeners.delete(l); };
}

/** Every change as it arrives (the home page's feed); returns the unsubscribe function. */
export function onFeed(f) {
  feedListeners.add(f);
  return () => feedListeners.delete(f);
}

export function recentChanges() {
  return recent.slice();
}

/** True when the change touches one of these subjects (`component:shop/cart`, ...). */
export const touches = (c, ...subjects) => c.subjects.some((s) => subjects.includes(s));
export const touchesPrefix = (c, prefix) => c.subjects.some((s) => s.startsWith(prefix));
