// The blast radius of a package (a version, every version, or a `vers:` range), an image,
// a component or a component version. Totals and the owners to page come first (one small
// query, painted as soon as it lands); then the layered map (left to right by depth; every
// node explains itself: hover, focus or click shows the path from the target); then a
// table per group with the same "why" path on each row.

import { gql, graphql } from '../api.js';
import {
  add, field, fill, h, link, table, empty, shortDigest, componentHref, teamHref, imageHref, appHref, blastHref,
  inventoryHref, vulnHref, setTitle, nf, announce,
} from '../dom.js';
import { contactList } from './component.js';
import { drawMap } from '../map.js';
import { onChange } from '../live.js';

const TARGET_KEYS = ['purl', 'vers', 'image', 'component', 'version', 'vulnerability'];
/** Items fetched for the map and tables before asking the user to narrow (maxDepth). */
const MAP_CAP = 6000;

const FIRST = graphql`query BlastFirst($of: BlastTargetInput!, $maxDepth: Int) {
  blastRadius(of: $of, maxDepth: $maxDepth) {
    maxDepth
    totals { images componentVersions components applications applicationVersions deployments owners clusters environments
      byLocation { environment cluster namespace deployments } }
    owners(first: 50) { totalCount nodes { depth name path { kind name } team { name title contacts { email chat pager } } } }
  }
}`;

// One query per group (a field name cannot be a variable), each paged by its cursor.
const GROUPS = [
  ['images', 'Images', graphql`query BlastImages($of: BlastTargetInput!, $maxDepth: Int, $after: String) {
  blastRadius(of: $of, maxDepth: $maxDepth) { images(first: 500, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { depth name path { kind name } imageDigest packageDepth } } }
}`],
  ['componentVersions', 'Component versions', graphql`query BlastComponentVersions($of: BlastTargetInput!, $maxDepth: Int, $after: String) {
  blastRadius(of: $of, maxDepth: $maxDepth) { componentVersions(first: 500, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { depth name path { kind name } componentVersion { component version digest } } } }
}`],
  ['components', 'Components', graphql`query BlastComponents($of: BlastTargetInput!, $maxDepth: Int, $after: String) {
  blastRadius(of: $of, maxDepth: $maxDepth) { components(first: 500, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { depth name path { kind name } dependent component { name owner { name } } } } }
}`],
  ['applications', 'Applications', graphql`query BlastApplications($of: BlastTargetInput!, $maxDepth: Int, $after: String) {
  blastRadius(of: $of, maxDepth: $maxDepth) { applications(first: 500, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { depth name path { kind name } application { name } } } }
}`],
  ['applicationVersions', 'Application versions', graphql`query BlastApplicationVersions($of: BlastTargetInput!, $maxDepth: Int, $after: String) {
  blastRadius(of: $of, maxDepth: $maxDepth) { applicationVersions(first: 500, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { depth name path { kind name } applicationVersion { application number } } } }
}`],
  ['deployments', 'Deployments', graphql`query BlastDeployments($of: BlastTargetInput!, $maxDepth: Int, $after: String) {
  blastRadius(of: $of, maxDepth: $maxDepth) { deployments(first: 500, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { depth name path { kind name } deployment { environment cluster namespace workload status runs { component version } } } } }
}`],
  ['owners', 'Owners', graphql`query BlastOwners($of: BlastTargetInput!, $maxDepth: Int, $after: String) {
  blastRadius(of: $of, maxDepth: $maxDepth) { owners(first: 500, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { depth name path { kind name } team { name contacts { email chat pager } } } } }
}`],
];

const PKG = graphql`query Pkg($purl: String!) { package(purl: $purl) { package { purl name } versions { version purl imageCount } } }`;

export function targetOf(params) {
  const of = {};
  for (const k of TARGET_KEYS) if (params.get(k)) of[k] = params.get(k);
  return of;
}

function describe(of) {
  if (of.vers) return [h('code', {}, of.purl), ' in ', h('code', {}, of.vers)];
  if (of.purl) return [h('code', {}, of.purl)];
  if (of.image) return ['image ', link(imageHref(of.image), h('code', {}, of.image))];
  if (of.component && of.version) return [link(componentHref(of.component, of.version), `${of.component} ${of.version}`)];
  if (of.component) return ['component ', link(componentHref(of.component), of.component)];
  if (of.vulnerability) return ['vulnerability ', link(vulnHref(of.vulnerability), of.vulnerability), ' (VEX-suppressed images left out)'];
  return ['nothing'];
}

/** Where a map node or a path step leads. */
export function stepHref(kind, name) {
  switch (kind) {
    case 'package': return blastHref({ purl: name });
    case 'image': return imageHref(name);
    case 'componentVersion': {
      const at = name.lastIndexOf('@');
      return componentHref(name.slice(0, at), name.slice(at + 1));
    }
    case 'component': return componentHref(name);
    case 'application': return appHref(name);
    case 'applicationVersion': {
      const at = name.lastIndexOf('#');
      return appHref(name.slice(0, at), `v=${name.slice(at + 1)}`);
    }
    case 'deployment': {
      const [cluster, namespace] = name.split('/');
      return inventoryHref({ cluster, namespace });
    }
    case 'team': return teamHref(name);
    default: return null;
  }
}

function stepLabel(kind, name) {
  if (kind === 'image') return shortDigest(name);
  if (kind === 'package') {
    const m = name.match(/^pkg:[^/]+\/(?:.*\/)?([^/@?#]+)(?:@([^?#]+))?/);
    return m ? `${decodeURIComponent(m[1])}${m[2] ? `@${decodeURIComponent(m[2])}` : ''}` : name;
  }
  return name;
}

function why(path) {
  return h('div', { class: 'why' }, h('span', { class: 'visually-hidden' }, 'Why: '),
    h('ol', {}, path.map((s) => h('li', {}, h('span', { class: 'kind' }, s.kind), ' ', link(stepHref(s.kind, s.name) || '#', stepLabel(s.kind, s.name))))));
}

function totalsList(t) {
  const cell = (n, label, hot, timing) => h('li', { class: hot && n ? 'hot' : null },
    h('span', { class: 'n', elementtiming: timing || null }, nf.format(n)), h('span', { class: 'l' }, label));
  return h('ul', { class: 'totals', 'aria-label': 'Totals' },
    cell(t.deployments, 'live deployments', true, 'blast-totals'),
    cell(t.clusters, 'clusters', true),
    cell(t.owners, 'owners to page', true),
    cell(t.components, 'components'),
    cell(t.componentVersions, 'component versions'),
    cell(t.images, 'images'),
    cell(t.applications, 'applications'),
    cell(t.environments, 'environments'));
}

const COLUMNS = {
  images: [
    { label: 'Image', cell: (i) => link(imageHref(i.imageDigest || i.name), h('code', { title: i.name }, shortDigest(i.name))) },
    { label: 'In SBOM at depth', num: true, cell: (i) => (i.packageDepth ?? '—') },
  ],
  componentVersions: [
    { label: 'Component version', cell: (i) => (i.componentVersion ? link(componentHref(i.componentVersion.component, i.componentVersion.version), `${i.componentVersion.component} ${i.componentVersion.version}`) : i.name) },
  ],
  components: [
    { label: 'Component', cell: (i) => link(componentHref(i.component?.name || i.name), i.component?.name || i.name) },
    { label: 'How', cell: (i) => (i.dependent ? h('span', { class: 'tag warn' }, 'depends on an affected component') : h('span', { class: 'tag bad' }, 'contains it')) },
    { label: 'Owner', cell: (i) => (i.component?.owner ? link(teamHref(i.component.owner.name), i.component.owner.name) : '—') },
  ],
  applications: [{ label: 'Application', cell: (i) => link(appHref(i.name), i.name) }],
  applicationVersions: [
    { label: 'Application version', cell: (i) => (i.applicationVersion ? link(appHref(i.applicationVersion.application, `v=${i.applicationVersion.number}`), `${i.applicationVersion.application} #${i.applicationVersion.number}`) : i.name) },
  ],
  deployments: [
    { label: 'Environment', cell: (i) => i.deployment?.environment || '—' },
    { label: 'Cluster', cell: (i) => (i.deployment ? link(inventoryHref({ cluster: i.deployment.cluster }), i.deployment.cluster) : '') },
    { label: 'Namespace', cell: (i) => (i.deployment ? link(inventoryHref({ cluster: i.deployment.cluster, namespace: i.deployment.namespace }), i.deployment.namespace) : '') },
    { label: 'Workload', cell: (i) => h('strong', {}, i.deployment?.workload || i.name) },
    { label: 'Runs', cell: (i) => (i.deployment?.runs || []).filter((r) => r.component).map((r) => `${r.component} ${r.version || ''}`).join(', ') },
    { label: 'Status', cell: (i) => (i.deployment ? h('span', { class: `status-${i.deployment.status}` }, i.deployment.status.toLowerCase()) : '') },
  ],
  owners: [
    { label: 'Team', cell: (i) => link(teamHref(i.name), h('strong', {}, i.name)) },
    { label: 'Contacts', cell: (i) => contactList(i.team?.contacts) },
  ],
};

export async function render(ctx) {
  const of = targetOf(ctx.params);
  const depthParam = ctx.params.get('depth');
  const maxDepth = depthParam !== null && depthParam !== '' ? Number(depthParam) : null;
  const title = of.purl || of.vers || of.image || (of.component ? `${of.component}${of.version ? ` ${of.version}` : ''}` : '');
  setTitle(`Blast radius ${title}`);
  const { main } = ctx;
  if (!Object.keys(of).length) {
    add(main, h('h1', {}, 'Blast radius'), empty('Search for a package, image or component, or paste a purl, digest or vers: range.'));
    return;
  }

  const depthInput = h('input', { id: 'max-depth', type: 'number', min: 0, max: 99, value: maxDepth ?? '', placeholder: 'all', style: 'width:6rem' });
  const depthForm = h('form', { class: 'toolbar' },
    field('max-depth', 'At most this many hops', depthInput),
    h('button', { type: 'submit' }, 'Apply'));
  depthForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams(ctx.params);
    if (depthInput.value === '') q.delete('depth'); else q.set('depth', depthInput.value);
    ctx.navigate(`/blast?${q}`);
  });
  const versionsSlot = h('div');
  const totalsSlot = h('section', { 'aria-labelledby': 'totals-h' }, h('h2', { id: 'totals-h' }, 'Affected now'), h('p', { class: 'muted' }, 'Walking the graph…'));
  const ownersSlot = h('section', { 'aria-labelledby': 'owners-h', class: 'page-owners' });
  const pathPanel = h('div', { class: 'path-panel', 'aria-live': 'polite' }, h('span', { class: 'muted' }, 'Hover, focus or click a node to see why it is affected.'));
  const mapHost = h('div');
  const mapSection = h('section', { 'aria-labelledby': 'map-h' }, h('h2', { id: 'map-h' }, 'Map'), h('p', { class: 'muted', id: 'map-status' }, 'Loading the map…'), pathPanel, mapHost);
  const tablesSlot = h('div');
  add(main, 
    h('div', { class: 'crumbs' }, 'Blast radius /'),
    h('h1', {}, 'Blast radius of ', describe(of)),
    versionsSlot, depthForm, totalsSlot, ownersSlot, mapSection, tablesSlot,
  );

  if (of.purl && !/@/.test(of.purl.replace(/^pkg:[^/]+\//, ''))) {
    // Every version of a package, or those in a range.
    const rangeInput = h('input', { id: 'vers-range', type: 'text', value: of.vers || '', placeholder: 'vers:maven/>=2.0.0|<2.15.0', size: 36, spellcheck: 'false' });
    const rangeForm = h('form', { class: 'toolbar' }, field('vers-range', 'Only versions in this vers: range', rangeInput), h('button', { type: 'submit' }, 'Apply'));
    rangeForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const q = new URLSearchParams(ctx.params);
      if (rangeInput.value.trim()) q.set('vers', rangeInput.value.trim()); else q.delete('vers');
      ctx.navigate(`/blast?${q}`);
    });
    add(versionsSlot, rangeForm);
    gql(PKG, { purl: of.purl }, { signal: ctx.signal }).then((d) => {
      if (!ctx.alive() || !d.package) return;
      add(versionsSlot, h('p', {}, 'Every version of ', h('strong', {}, d.package.package.name), '. Or just one: ',
        d.package.versions.map((v, i) => [i ? ' · ' : '', link(blastHref({ purl: v.purl }), v.version), h('span', { class: 'muted' }, ` (${nf.format(v.imageCount)} images)`)])));
    }).catch(() => {});
  }

  performance.clearMarks('blast:response');
  performance.clearMarks('blast:totals-painted');
  const first = await gql(FIRST, { of, maxDepth }, { signal: ctx.signal, mark: 'blast:response' });
  if (!ctx.alive()) return;
  const b = first.blastRadius;
  if (!b) {
    fill(totalsSlot, h('h2', { id: 'totals-h' }, 'Affected now'), h('p', { class: 'error', role: 'alert' }, 'The catalog has never seen this target: no SBOM names that package, or no such image or component.'));
    mapSection.remove();
    return;
  }
  const t = b.totals;
  fill(totalsSlot, h('h2', { id: 'totals-h' }, 'Affected now'), totalsList(t),
    t.byLocation.length ? h('details', {}, h('summary', {}, `Where the ${nf.format(t.deployments)} deployments are`),
      table(null, [
        { label: 'Environment', cell: (l) => l.environment || '—' },
        { label: 'Cluster', cell: (l) => link(inventoryHref({ cluster: l.cluster }), l.cluster) },
        { label: 'Namespace', cell: (l) => link(inventoryHref({ cluster: l.cluster, namespace: l.namespace }), l.namespace) },
        { label: 'Deployments', num: true, cell: (l) => nf.format(l.deployments) },
      ], t.byLocation)) : null);
  add(ownersSlot, h('h2', { id: 'owners-h' }, `Owners to page (${nf.format(b.owners.totalCount)})`),
    b.owners.nodes.length
      ? h('ul', { class: 'owner-list' }, b.owners.nodes.map((o) => h('li', {}, link(teamHref(o.name), h('strong', {}, o.team?.title || o.name)), contactList(o.team?.contacts))))
      : empty('Nobody owns what is affected.'));
  announce(`${t.deployments} live deployments, ${t.components} components and ${t.owners} owners affected.`);
  // Let the totals paint before anything else competes for the main thread (the group
  // pages below are JSON to parse and a map to lay out), and mark when that frame is done.
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  if (!ctx.alive()) return;
  performance.mark('blast:totals-painted');
  performance.measure('blast:response-to-totals', 'blast:response', 'blast:totals-painted');

  // Everything else: every group, paged, for the map and the tables.
  const all = {};
  const next = {}; // a group's endCursor when the cap stopped it early
  const queries = Object.fromEntries(GROUPS.map(([group, , q]) => [group, q]));
  let fetched = 0;
  let capped = false;
  await Promise.all(GROUPS.map(async ([group, , q]) => {
    // The first query already holds every owner when there are 50 or fewer.
    if (group === 'owners' && b.owners.totalCount <= b.owners.nodes.length) {
      all.owners = b.owners.nodes;
      fetched += b.owners.nodes.length;
      return;
    }
    all[group] = [];
    let after = null;
    for (;;) {
      const d = await gql(q, { of, maxDepth, after }, { signal: ctx.signal });
      const page = d.blastRadius[group];
      all[group].push(...page.nodes);
      fetched += page.nodes.length;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
      if (fetched >= MAP_CAP) { capped = true; next[group] = after; break; }
    }
  }));
  if (!ctx.alive()) return;
  performance.mark('blast:groups-loaded');

  // The map: one node per thing, reached from its predecessor on its path.
  const nodes = new Map();
  let rootId = null;
  for (const [group] of GROUPS) {
    for (const it of all[group]) {
      const p = it.path;
      if (!p.length) continue;
      const root = p[0];
      rootId = `${root.kind}:${root.name}`;
      if (!nodes.has(rootId)) nodes.set(rootId, { id: rootId, kind: root.kind, name: root.name, label: stepLabel(root.kind, root.name), depth: 0, via: null });
      const last = p[p.length - 1];
      const id = `${last.kind}:${last.name}`;
      if (nodes.has(id)) continue;
      const prev = p.length > 1 ? p[p.length - 2] : null;
      nodes.set(id, { id, kind: last.kind, name: last.name, label: stepLabel(last.kind, last.name), depth: it.depth, via: prev ? `${prev.kind}:${prev.name}` : null });
    }
  }
  // A path step that is not itself listed (a page cut it off) still gets a node.
  for (const n of [...nodes.values()]) {
    let v = n.via;
    if (v && !nodes.has(v)) {
      const [kind, ...rest] = v.split(':');
      nodes.set(v, { id: v, kind, name: rest.join(':'), label: stepLabel(kind, rest.join(':')), depth: Math.max(0, n.depth - 1), via: rootId });
    }
  }
  const status = document.getElementById('map-status');
  if (nodes.size <= 1 && rootId === null) {
    status.textContent = 'Nothing is affected.';
  } else {
    status.textContent = `${nf.format(nodes.size)} nodes, left to right by hops from the target. Drag to pan, wheel or the buttons to zoom; large groups are folded (click to unfold).${capped ? ` Showing the first ${nf.format(MAP_CAP)} items: narrow with “at most this many hops”.` : ''}`;
    const controller = drawMap(mapHost, { rootId, nodes: [...nodes.values()] }, {
      collapseAbove: 12,
      onOpen: (n) => { const href = stepHref(n.kind, n.name); if (href) ctx.navigate(href); },
      onPath: (ns) => {
        fill(pathPanel, ns.length
          ? why(ns.map((n) => ({ kind: n.kind, name: n.name })))
          : h('span', { class: 'muted' }, 'Hover, focus or click a node to see why it is affected.'));
      },
      describe: (n) => `${n.kind} ${n.name}`,
    });
    window.__blastMap = controller;
    ctx.onLeave(() => { controller.destroy(); if (window.__blastMap === controller) window.__blastMap = null; });
  }
  performance.mark('blast:map-drawn');

  // The tables: the first 100 rows of each group, the rest on demand.
  for (const [group, label] of GROUPS) {
    const items = all[group];
    const total = group === 'owners' ? b.owners.totalCount : t[group] ?? items.length;
    const id = `table-${group}`;
    const sec = h('section', { 'aria-labelledby': id }, h('h2', { id }, `${label} (${nf.format(total)})`));
    if (!items.length) { add(sec, empty('None.')); add(tablesSlot, sec); continue; }
    const cols = [...COLUMNS[group], { label: 'Hops', num: true, cell: (i) => i.depth }, { label: 'Why', cell: (i) => why(i.path) }];
    const slot = h('div');
    const show = (n) => {
      fill(slot, table(null, cols, items.slice(0, n)));
      if (items.length > n) {
        add(slot, h('button', { type: 'button', class: 'more', onclick: () => show(items.length) }, `Show all ${nf.format(items.length)}`));
      } else if (next[group]) {
        // The next page from where the cap stopped, by its cursor.
        const more = h('button', { type: 'button', class: 'more' }, `Load more (${nf.format(total - items.length)} not loaded)`);
        more.addEventListener('click', async () => {
          more.disabled = true;
          const d = await gql(queries[group], { of, maxDepth, after: next[group] }, { signal: ctx.signal });
          if (!ctx.alive()) return;
          const page = d.blastRadius[group];
          items.push(...page.nodes);
          next[group] = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
          show(items.length);
        });
        add(slot, more);
      }
    };
    show(100);
    add(sec, slot);
    add(tablesSlot, sec);
  }

  // Live: a new push, SBOM or deployment can change the answer; say so rather than
  // redrawing a map someone is reading.
  ctx.onLeave(onChange((c) => ['image.registered', 'sbom.attached', 'deployment.observed', 'cluster.snapshot', 'owner.set', 'dependency.declared', 'dependency.removed', 'entity.declared'].includes(c.kind), () => {
    if (document.getElementById('blast-stale')) return;
    main.insertBefore(h('p', { class: 'notice', id: 'blast-stale', role: 'status' }, 'The catalog changed since this was drawn. ',
      h('button', { type: 'button', onclick: () => ctx.navigate(location.pathname + location.search, { replace: true }) }, 'Refresh')), depthForm);
  }));
}
