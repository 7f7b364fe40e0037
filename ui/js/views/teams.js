// Teams: whom to call (contacts) and what they own.

import { gql, graphql } from '../api.js';
import { add, h, link, table, empty, componentHref, teamHref, setTitle, nf, paged } from '../dom.js';
import { contactList } from './component.js';

const LIST = graphql`query Teams($after: String) {
  teams(first: 200, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    nodes { name title contacts { email chat pager } components(first: 1) { totalCount } } }
}`;
const TEAM = graphql`query Team($name: String!, $after: String) {
  team(name: $name) { name title parent contacts { email chat pager }
    components(first: 200, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { name latestVersion versionCount } } }
}`;

export async function renderList(ctx) {
  setTitle('Teams');
  const d = await gql(LIST, {}, { signal: ctx.signal });
  add(ctx.main, h('h1', {}, 'Teams'), paged(h('div'), d.teams, (rows) => (rows.length ? table(null, [
    { label: 'Team', cell: (t) => link(teamHref(t.name), h('strong', {}, t.title || t.name)) },
    { label: 'Contacts', cell: (t) => contactList(t.contacts) },
    { label: 'Owns', num: true, cell: (t) => nf.format(t.components.totalCount) },
  ], rows) : empty('No teams yet.')),
  async (after) => { const m = await gql(LIST, { after }, { signal: ctx.signal }); return ctx.alive() ? m.teams : null; }));
}

export async function render(ctx) {
  const name = ctx.rest;
  setTitle(name, 'Team');
  const t = (await gql(TEAM, { name }, { signal: ctx.signal })).team;
  if (!t) {
    add(ctx.main, h('h1', {}, name), h('p', { class: 'error', role: 'alert' }, `No team named “${name}”.`));
    return;
  }
  add(ctx.main, 
    h('div', { class: 'crumbs' }, link('/teams', 'Teams'), ' /'),
    h('h1', {}, t.title || t.name), h('p', { class: 'subtitle' }, t.name, t.parent ? [' · part of ', link(teamHref(t.parent), t.parent)] : null),
    h('section', { class: 'card', 'aria-labelledby': 'ct-h' }, h('h2', { id: 'ct-h' }, 'Contacts'), contactList(t.contacts)),
    h('h2', {}, `Owns (${nf.format(t.components.totalCount)})`),
    paged(h('div'), t.components, (rows) => (rows.length ? table(null, [
      { label: 'Component', cell: (c) => link(componentHref(c.name), c.name) },
      { label: 'Latest', cell: (c) => c.latestVersion || '—' },
      { label: 'Versions', num: true, cell: (c) => c.versionCount },
    ], rows) : empty('Nothing.')),
    async (after) => { const m = await gql(TEAM, { name, after }, { signal: ctx.signal }); return ctx.alive() && m.team ? m.team.components : null; }));
}
