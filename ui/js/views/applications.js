// Applications and their versions: each version's bill of materials, and the difference
// between two versions (components and packages added, removed or changed).

import { gql, graphql } from '../api.js';
import { add, field, fill, h, link, table, time, empty, tags, appHref, componentHref, teamHref, imageHref, blastHref, shortDigest, setTitle, nf, paged } from '../dom.js';
import { ownerCard } from './component.js';
import { onChange, touches } from '../live.js';

const LIST = graphql`{ applications { name description versionCount owner { name } components { name } } }`;
const APP = graphql`query App($name: String!) {
  application(name: $name) {
    name description versionCount
    owner { name title parent contacts { email chat pager } }
    components { name latestVersion }
    versions(first: 100) { totalCount nodes { number createdAt members { component version } } }
  }
}`;
const BOM = graphql`query Bom($of: BomRootInput!) {
  bom(of: $of) { componentVersions(first: 500) { totalCount pageInfo { hasNextPage endCursor } nodes { component version digest } }
    packages(first: 500) { totalCount pageInfo { hasNextPage endCursor } nodes { name version purl licenses direct } } }
}`;
const BOM_PACKAGES = graphql`query BomPackages($of: BomRootInput!, $after: String) {
  bom(of: $of) { packages(first: 500, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { name version purl licenses direct } } }
}`;
const BOM_COMPONENTS = graphql`query BomComponents($of: BomRootInput!, $after: String) {
  bom(of: $of) { componentVersions(first: 500, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { component version digest } } }
}`;
const DIFF = graphql`query Diff($from: BomRootInput!, $to: BomRootInput!) {
  diff(from: $from, to: $to) {
    components(first: 500) { totalCount pageInfo { hasNextPage endCursor } nodes { name kind from to } }
    packages(first: 500) { totalCount pageInfo { hasNextPage endCursor } nodes { name kind from to } }
  }
}`;
const DIFF_COMPONENTS = graphql`query DiffComponents($from: BomRootInput!, $to: BomRootInput!, $after: String) {
  diff(from: $from, to: $to) { components(first: 500, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { name kind from to } } }
}`;
const DIFF_PACKAGES = graphql`query DiffPackages($from: BomRootInput!, $to: BomRootInput!, $after: String) {
  diff(from: $from, to: $to) { packages(first: 500, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { name kind from to } } }
}`;

export async function renderList(ctx) {
  setTitle('Applications');
  const d = await gql(LIST, {}, { signal: ctx.signal });
  add(ctx.main, h('h1', {}, 'Applications'),
    d.applications.length ? table(null, [
      { label: 'Application', cell: (a) => link(appHref(a.name), h('strong', {}, a.name)) },
      { label: 'Description', cell: (a) => a.description || '' },
      { label: 'Components', cell: (a) => a.components.map((c, i) => [i ? ', ' : '', link(componentHref(c.name), c.name)]) },
      { label: 'Versions', num: true, cell: (a) => nf.format(a.versionCount) },
      { label: 'Owner', cell: (a) => (a.owner ? link(teamHref(a.owner.name), a.owner.name) : '—') },
    ], d.applications) : empty('No applications: declare one with the declareApplication mutation or a Backstage System.'));
}

function changeTable(rows, what) {
  const cls = { ADDED: 'diff-added', REMOVED: 'diff-removed', CHANGED: 'diff-changed' };
  return rows.length ? table(null, [
    { label: what, cell: (c) => (what === 'Component' ? link(componentHref(c.name), c.name) : c.name) },
    { label: 'Change', cell: (c) => h('span', { class: cls[c.kind] }, c.kind.toLowerCase()) },
    { label: 'From', cell: (c) => h('span', { class: 'mono' }, c.from.join(', ') || '—') },
    { label: 'To', cell: (c) => h('span', { class: 'mono' }, c.to.join(', ') || '—') },
  ], rows, { class: `diff-${what.toLowerCase()}` }) : empty(`No ${what.toLowerCase()} changed.`);
}

export async function render(ctx) {
  const name = ctx.rest;
  setTitle(name, 'Application');
  const load = async () => {
    const d = await gql(APP, { name }, { signal: ctx.signal });
    if (!ctx.alive()) return;
    const a = d.application;
    const versions = a?.versions.nodes ?? [];
    if (!a) {
      fill(ctx.main, h('h1', {}, name), h('p', { class: 'error', role: 'alert' }, `No application named “${name}”.`));
      return;
    }
    const latest = versions.reduce((m, v) => Math.max(m, v.number), 0);
    const chosen = Number(ctx.params.get('v')) || latest;
    const to = Number(ctx.params.get('to')) || chosen;
    const from = Number(ctx.params.get('from')) || Math.max(1, to - 1);
    const q = (extra) => { const s = new URLSearchParams(ctx.params); for (const [k, v] of Object.entries(extra)) s.set(k, v); return s.toString(); };

    const fromSel = h('select', { id: 'diff-from' }, versions.map((v) => h('option', { value: v.number, selected: v.number === from }, `#${v.number}`)));
    const toSel = h('select', { id: 'diff-to' }, versions.map((v) => h('option', { value: v.number, selected: v.number === to }, `#${v.number}`)));
    const diffForm = h('form', { class: 'toolbar', 'aria-label': 'Versions to compare' },
      field('diff-from', 'From version', fromSel), field('diff-to', 'to version', toSel), h('button', { type: 'submit' }, 'Compare'));
    diffForm.addEventListener('submit', (e) => { e.preventDefault(); ctx.navigate(appHref(name, q({ from: fromSel.value, to: toSel.value }))); });

    const bomSlot = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    const diffSlot = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    fill(ctx.main,
      h('div', { class: 'crumbs' }, link('/applications', 'Applications'), ' /'),
      h('h1', {}, name),
      h('p', { class: 'subtitle' }, a.description || '', a.description ? ' · ' : '', `${nf.format(a.versionCount)} versions · `,
        a.components.map((c, i) => [i ? ', ' : '', link(componentHref(c.name), c.name)])),
      h('div', { class: 'split' },
        h('section', { 'aria-labelledby': 'av-h' }, h('h2', { id: 'av-h' }, 'Versions'),
          versions.length ? table(null, [
            { label: 'Version', cell: (v) => link(appHref(name, q({ v: v.number })), v.number === chosen ? h('strong', {}, `#${v.number}`) : `#${v.number}`) },
            { label: 'Created', cell: (v) => time(v.createdAt) },
            { label: 'Members', cell: (v) => v.members.map((m, i) => [i ? ', ' : '', link(componentHref(m.component, m.version), `${m.component} ${m.version}`)]) },
          ], versions.slice().sort((x, y) => y.number - x.number), { class: 'app-versions' }) : empty('No versions yet: members have no versions.'),
          a.versions.totalCount > versions.length ? h('p', { class: 'muted' }, `The newest ${nf.format(versions.length)} of ${nf.format(a.versions.totalCount)}.`) : null),
        ownerCard(a.owner)),
      h('section', { 'aria-labelledby': 'bom-h' }, h('h2', { id: 'bom-h' }, `Bill of materials of version #${chosen}`), bomSlot),
      h('section', { 'aria-labelledby': 'diff-h' }, h('h2', { id: 'diff-h' }, `What changed from #${from} to #${to}`), diffForm, diffSlot),
    );
    if (!latest) { fill(bomSlot, empty('No version.')); fill(diffSlot, empty('No versions to compare.')); return; }
    const diffVars = { from: { application: name, number: from }, to: { application: name, number: to } };
    const [bom, diff] = await Promise.all([
      gql(BOM, { of: { application: name, number: chosen } }, { signal: ctx.signal }),
      gql(DIFF, diffVars, { signal: ctx.signal }),
    ]);
    if (!ctx.alive()) return;
    const b = bom.bom;
    const bomPackages = h('div');
    fill(bomSlot, b ? [
      h('h3', {}, `Component versions (${nf.format(b.componentVersions.totalCount)})`),
      paged(h('div'), b.componentVersions, (rows) =>
      table(null, [
        { label: 'Component', cell: (c) => link(componentHref(c.component, c.version), c.component) },
        { label: 'Version', cell: (c) => c.version },
        { label: 'Image', cell: (c) => link(imageHref(c.digest), h('code', { title: c.digest }, shortDigest(c.digest))) },
      ], rows, { class: 'bom-components' }),
      async (after) => { const m = await gql(BOM_COMPONENTS, { of: { application: name, number: chosen }, after }, { signal: ctx.signal }); return ctx.alive() ? m.bom?.componentVersions ?? null : null; }),
      h('h3', {}, `Packages (${nf.format(b.packages.totalCount)})`),
      bomPackages,
    ] : empty('No such version.'));
    if (b) {
      paged(bomPackages, b.packages, (rows) => (rows.length ? table(null, [
        { label: 'Package', cell: (p) => (p.purl ? link(blastHref({ purl: p.purl }), p.name) : p.name) },
        { label: 'Version', cell: (p) => h('span', { class: 'mono' }, p.version || '—') },
        { label: 'Licenses', cell: (p) => tags(p.licenses) },
      ], rows, { class: 'bom-packages' }) : empty('No SBOMs attached to its images.')), async (after) => {
        const d = await gql(BOM_PACKAGES, { of: { application: name, number: chosen }, after }, { signal: ctx.signal });
        return ctx.alive() ? d.bom?.packages ?? null : null;
      });
    }
    const df = diff.diff;
    fill(diffSlot, df ? [
      h('h3', {}, `Components (${nf.format(df.components.totalCount)})`),
      paged(h('div'), df.components, (rows) => changeTable(rows, 'Component'), async (after) => {
        const m = await gql(DIFF_COMPONENTS, { ...diffVars, after }, { signal: ctx.signal });
        return ctx.alive() ? m.diff?.components ?? null : null;
      }),
      h('h3', {}, `Packages (${nf.format(df.packages.totalCount)})`),
      paged(h('div'), df.packages, (rows) => changeTable(rows, 'Package'), async (after) => {
        const m = await gql(DIFF_PACKAGES, { ...diffVars, after }, { signal: ctx.signal });
        return ctx.alive() ? m.diff?.packages ?? null : null;
      }),
    ] : empty('One of the versions does not exist.'));
  };
  await load();
  ctx.onLeave(onChange((c) => touches(c, `application:${name}`) || c.kind === 'image.registered', () => load().catch(() => {})));
}
