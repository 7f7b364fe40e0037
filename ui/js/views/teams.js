// Teams: whom to call (contacts) and what they own.

import { gql, graphql } from '../api.js';
import { add, h, link, table, empty, componentHref, teamHref, setTitle } from '../dom.js';
import { contactList } from './component.js';

const LIST = graphql`{ teams(first: 500) { nodes { name title contacts { email chat pager } components { name } } } }`;
const TEAM = graphql`query Team($name: String!) {
  team(name: $name) { name title parent contacts { email chat pager } components { name latestVersion versionCount } }
}`;

export async function renderList(ctx) {
  setTitle('Teams');
  const d = await gql(LIST, {}, { signal: ctx.signal });
  add(ctx.main, h('h1', {}, 'Teams'), d.teams.nodes.length ? table(null, [
    { label: 'Team', cell: (t) => link(teamHref(t.name), h('strong', {}, t.title || t.name)) },
    { label: 'Contacts', cell: (t) => contactList(t.contacts) },
    { label: 'Owns', num: true, cell: (t) => t.components.length },
  ], d.teams.nodes) : empty('No teams yet.'));
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
    h('h2', {}, `Owns (${t.components.length})`),
    t.components.length ? table(null, [
      { label: 'Component', cell: (c) => link(componentHref(c.name), c.name) },
      { label: 'Latest', cell: (c) => c.latestVersion || '—' },
      { label: 'Versions', num: true, cell: (c) => c.versionCount },
    ], t.components) : empty('Nothing.'));
}
