// Notifications: the endpoints the server may notify (with their outbox's counts), the rules
// that say who hears what, and the outbox itself, newest first, filtered by state and paged
// to older rows by id. Showing only: retrying a parked row is the admin's (retryNotification).
// Everything from the API is rendered as text.

import { gql, graphql } from '../api.js';
import { add, h, link, table, empty, setTitle, time, teamHref, nf } from '../dom.js';

/** Rows of the outbox on one page. */
const PAGE = 50;

const NOTIFICATIONS = graphql`query Notifications($state: OutboxEntryState, $first: Int, $before: Int) {
  notificationEndpoints { name kind pending delivered parked }
  notificationRules { team environment endpoints on minSeverity setAt setBy }
  notificationOutbox(state: $state, first: $first, before: $before) {
    id endpoint state attempts lastError createdAt nextAttemptAt deliveredAt
    trigger action title summary severity environment team }
}`;

/** The filter's states, as the URL spells them (`?state=parked`). */
const STATES = ['pending', 'delivered', 'parked'];
const STATE_TAG = { PENDING: 'warn', DELIVERED: 'good', PARKED: 'parked' };

const word = (s) => (s ? s.toLowerCase() : '');

function href(state, before) {
  const q = new URLSearchParams();
  if (state) q.set('state', state);
  if (before) q.set('before', before);
  const s = q.toString();
  return s ? `/notifications?${s}` : '/notifications';
}

const stateTag = (s) => h('span', { class: `tag ${STATE_TAG[s] || ''}`.trim() }, word(s));

function count(n, cls) {
  return n > 0 && cls ? h('span', { class: `tag ${cls}` }, nf.format(n)) : nf.format(n);
}

export async function render(ctx) {
  const asked = ctx.params.get('state');
  const state = STATES.includes(asked) ? asked : null;
  const before = /^[1-9][0-9]{0,9}$/.test(ctx.params.get('before') || '') ? Number(ctx.params.get('before')) : null;
  setTitle(state ? `Notifications · ${state}` : 'Notifications');
  // One row more than shown says whether older rows wait.
  const d = await gql(NOTIFICATIONS, { state: state ? state.toUpperCase() : null, first: PAGE + 1, before }, { signal: ctx.signal });
  const rows = d.notificationOutbox.slice(0, PAGE).map((r) => ({ ...r, __class: r.state === 'PARKED' ? 'parked' : null }));
  const older = d.notificationOutbox.length > PAGE ? rows[rows.length - 1].id : null;
  const filter = (s, text) => link(href(s, null), s === state ? h('strong', {}, text) : text);
  add(ctx.main,
    h('h1', {}, 'Notifications'),
    h('h2', {}, `Endpoints (${d.notificationEndpoints.length})`),
    d.notificationEndpoints.length ? table(null, [
      { label: 'Endpoint', cell: (e) => h('code', {}, e.name) },
      { label: 'Kind', cell: (e) => e.kind },
      { label: 'Pending', num: true, cell: (e) => count(e.pending) },
      { label: 'Delivered', num: true, cell: (e) => count(e.delivered) },
      { label: 'Parked', num: true, cell: (e) => count(e.parked, 'parked') },
    ], d.notificationEndpoints, { class: 'notify-endpoints' })
      : empty('No endpoints: the catalog was started without --notify-config, so it notifies no one.'),
    h('h2', {}, `Rules (${d.notificationRules.length})`),
    d.notificationRules.length ? table(null, [
      { label: 'Team', cell: (r) => (r.team ? link(teamHref(r.team), r.team) : h('span', { class: 'muted' }, 'any team')) },
      { label: 'Environment', cell: (r) => r.environment || h('span', { class: 'muted' }, 'any') },
      { label: 'Triggers', cell: (r) => r.on.map((t) => h('span', { class: 'tag' }, word(t))) },
      { label: 'Endpoints', cell: (r) => r.endpoints.map((e, i) => [i ? ', ' : '', h('code', {}, e)]) },
      { label: 'Min severity', cell: (r) => (r.minSeverity ? word(r.minSeverity) : h('span', { class: 'muted' }, '—')) },
      { label: 'Set', cell: (r) => [time(r.setAt), ' by ', r.setBy] },
    ], d.notificationRules, { class: 'notify-rules' }) : empty('No rules: nothing is notified.'),
    h('h2', {}, 'Outbox'),
    h('nav', { class: 'chips', 'aria-label': 'Outbox state' },
      filter(null, 'All'),
      STATES.map((s) => [' ', filter(s, s[0].toUpperCase() + s.slice(1))])),
    rows.length ? table(null, [
      { label: '#', num: true, cell: (r) => r.id },
      { label: 'State', cell: (r) => stateTag(r.state) },
      { label: 'Endpoint', cell: (r) => h('code', {}, r.endpoint) },
      { label: 'Trigger', cell: (r) => [r.trigger ? word(r.trigger) : '—', ' · ', word(r.action), r.severity ? [' ', h('span', { class: 'muted' }, `(${word(r.severity)})`)] : null] },
      { label: 'Title', cell: (r) => [h('span', { class: 'title' }, r.title), h('div', { class: 'why' }, r.summary)] },
      { label: 'Environment', cell: (r) => r.environment || h('span', { class: 'muted' }, '—') },
      { label: 'Team', cell: (r) => (r.team ? link(teamHref(r.team), r.team) : h('span', { class: 'muted' }, '—')) },
      { label: 'Attempts', num: true, cell: (r) => r.attempts },
      { label: 'Last error', cell: (r) => (r.lastError ? h('span', { class: 'last-error' }, r.lastError) : h('span', { class: 'muted' }, '—')) },
      { label: 'Created', cell: (r) => time(r.createdAt) },
      { label: 'Delivered', cell: (r) => (r.deliveredAt ? time(r.deliveredAt)
        : r.nextAttemptAt ? ['next attempt ', time(r.nextAttemptAt)] : h('span', { class: 'muted' }, '—')) },
    ], rows, { class: 'outbox' }) : empty(before ? 'No older notifications.' : `No ${state ? `${state} ` : ''}notifications.`),
    before || older ? h('p', { class: 'pager' },
      before ? link(href(state, null), 'Newest') : null,
      before && older ? ' · ' : null,
      older ? link(href(state, older), 'Older') : null) : null);
}
