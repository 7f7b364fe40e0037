// The start page: where things run, the applications, the components, and a feed of
// changes as they arrive.

import { gql, graphql } from '../api.js';
import { add, fill, h, link, table, time, empty, componentHref, teamHref, inventoryHref, appHref, setTitle, nf, paged } from '../dom.js';
import { onChange, onFeed, recentChanges } from '../live.js';

// The newest 30 events: the last page of the log, paging backwards from its end.
const RECENT = graphql`query Recent { events(last: 30) { nodes { seq kind occurredAt summary } } }`;

const Q = graphql`{
  environments { name clusters }
  applications { name versionCount owner { name } }
  components(first: 100) { totalCount pageInfo { hasNextPage endCursor } nodes { name latestVersion versionCount owner { name } } }
}`;
const MORE = graphql`query HomeComponents($after: String) {
  components(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { name latestVersion versionCount owner { name } } }
}`;

export async function render(ctx) {
  setTitle('Overview');
  const { main } = ctx;
  const body = h('div');
  const feed = h('ol', { class: 'feed', 'aria-label': 'Recent changes' });
  add(main, 
    h('h1', {}, 'Overview'),
    h('p', { class: 'subtitle' }, 'Search anything above (press ', h('kbd', {}, '/'), '), or paste a purl, digest or vers: range to see its blast radius.'),
    h('div', { class: 'split' }, body, h('section', { class: 'card', 'aria-labelledby': 'feed-h' }, h('h2', { id: 'feed-h' }, 'Live changes'), feed)),
  );
  const addFeed = (c) => {
    const li = h('li', {}, time(c.at), h('span', { class: 'kind' }, c.kind), ' ', c.summary);
    feed.prepend(li);
    while (feed.children.length > 30) feed.lastChild.remove();
  };
  // The feed starts with the log's latest entries, then this tab's live changes.
  const seen = new Set();
  const addOnce = (c) => { if (!seen.has(String(c.seq))) { seen.add(String(c.seq)); addFeed(c); } };
  try {
    const log = await gql(RECENT, {}, { signal: ctx.signal });
    for (const e of log.events.nodes) addOnce({ seq: e.seq, at: e.occurredAt, kind: e.kind, summary: e.summary });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
  }
  for (const c of recentChanges().reverse()) addOnce(c);
  if (!feed.children.length) add(feed, h('li', { class: 'muted', id: 'feed-empty' }, 'Waiting for pushes and deployments…'));
  ctx.onLeave(onFeed((c) => { document.getElementById('feed-empty')?.remove(); addOnce(c); }));

  const load = async () => {
    const d = await gql(Q, {}, { signal: ctx.signal });
    if (!ctx.alive()) return;
    fill(body,
      h('section', { 'aria-labelledby': 'env-h' },
        h('h2', { id: 'env-h' }, 'Where things run'),
        d.environments.length
          ? h('ul', {}, d.environments.map((e) => h('li', {}, link(inventoryHref({ environment: e.name }), e.name), ': ',
            e.clusters.map((c, i) => [i ? ', ' : '', link(inventoryHref({ cluster: c }), c)]))))
          : empty('No deployments recorded yet.')),
      h('section', { 'aria-labelledby': 'apps-h' },
        h('h2', { id: 'apps-h' }, 'Applications'),
        d.applications.length
          ? h('ul', {}, d.applications.map((a) => h('li', {}, link(appHref(a.name), a.name), ` — ${nf.format(a.versionCount)} versions`, a.owner ? [', owned by ', link(teamHref(a.owner.name), a.owner.name)] : null)))
          : empty('No applications declared.')),
      h('section', { 'aria-labelledby': 'comp-h' },
        h('h2', { id: 'comp-h' }, `Components (${nf.format(d.components.totalCount)})`),
        paged(h('div'), d.components, (rows) => (rows.length
          ? table(null, [
            { label: 'Component', cell: (c) => link(componentHref(c.name), c.name) },
            { label: 'Latest', cell: (c) => c.latestVersion || '—' },
            { label: 'Versions', num: true, cell: (c) => nf.format(c.versionCount) },
            { label: 'Owner', cell: (c) => (c.owner ? link(teamHref(c.owner.name), c.owner.name) : h('span', { class: 'muted' }, 'none')) },
          ], rows)
          : empty('No components yet: push an image to a registry that notifies the catalog.')),
        async (after) => { const m = await gql(MORE, { after }, { signal: ctx.signal }); return ctx.alive() ? m.components : null; })),
    );
  };
  await load();
  ctx.onLeave(onChange((c) => ['image.registered', 'deployment.observed', 'cluster.snapshot', 'owner.set', 'application.declared', 'entity.declared'].includes(c.kind), () => load().catch(() => {})));
}
