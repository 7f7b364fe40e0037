// The full results page of a search: every kind, grouped, each hit a link.

import { gql } from '../api.js';
import { add, h, link, empty, setTitle } from '../dom.js';
import { KINDS, SEARCH, hitHref, directTarget } from '../search.js';
import { blastHref } from '../dom.js';

export async function render(ctx) {
  const q = ctx.params.get('q') || '';
  setTitle(`Search ${q}`);
  const input = document.getElementById('search-input');
  if (input && !input.value) input.value = q;
  add(ctx.main, h('h1', {}, 'Search results'), h('p', { class: 'subtitle' }, 'for ', h('code', {}, q)));
  if (!q.trim()) return;
  const target = directTarget(q);
  if (target) add(ctx.main, h('p', { class: 'notice' }, link(blastHref(target), `Blast radius of ${q}`)));
  const d = await gql(SEARCH, { text: q, first: 100 }, { signal: ctx.signal });
  if (!d.search.length) {
    add(ctx.main, empty('Nothing matches. Components match by name, packages by name or purl prefix, images by digest prefix.'));
    return;
  }
  for (const [kind, label] of KINDS) {
    const hits = d.search.filter((x) => x.kind === kind);
    if (!hits.length) continue;
    const id = `results-${kind.toLowerCase()}`;
    add(ctx.main, h('section', { 'aria-labelledby': id },
      h('h2', { id }, `${label} (${hits.length})`),
      h('ul', {}, hits.map((hit) => h('li', {}, link(hitHref(hit), h('span', { class: 'mono' }, hit.id)), hit.detail ? h('span', { class: 'muted' }, ` — ${hit.detail}`) : null)))));
  }
}
