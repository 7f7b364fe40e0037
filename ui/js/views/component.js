// A component: its versions (digest, tags, revision linked to its source, created, pushed),
// the owner to call, where each version runs now, what it depends on and what depends on
// it, and the packages and vulnerabilities of a chosen version. Live: a new push or
// deployment of this component re-renders the page in place.

import { gql, graphql } from '../api.js';
import {
  add, fill, h, link, table, time, empty, tags, revisionLink, shortDigest, componentHref, teamHref, imageHref,
  appHref, blastHref, inventoryHref, vulnHref, setTitle, nf, enc, paged, shareTag,
} from '../dom.js';
import { onChange, touches } from '../live.js';

const Q = graphql`query Component($name: String!) {
  component(name: $name) {
    name latestVersion versionCount
    owner { name title parent contacts { email chat pager } }
    dependencies { name owner { name } }
    dependents { name owner { name } }
    applications { name }
    versions(first: 100) { totalCount pageInfo { hasNextPage endCursor }
      nodes { version digest registry repository tags revision source created pushedAt platforms { name } } }
  }
  whereIs(component: $name, first: 500) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id environment cluster namespace workload status since replicas runs { component version digest trafficPercent track } }
  }
}`;
const MORE_VERSIONS = graphql`query ComponentVersions($name: String!, $after: String) {
  component(name: $name) {
    versions(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor }
      nodes { version digest registry repository tags revision source created pushedAt platforms { name } } }
  }
}`;
const MORE_RUNS = graphql`query ComponentRuns($name: String!, $after: String) {
  whereIs(component: $name, first: 500, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id environment cluster namespace workload status since replicas runs { component version digest trafficPercent track } }
  }
}`;

const QV = graphql`query ComponentVersion($name: String!, $version: String!) {
  component(name: $name) {
    version(version: $version) {
      version digest
      image { sbom { format specVersion packageCount directCount } }
      packages(first: 500) { totalCount pageInfo { hasNextPage } nodes { name version purl direct depth licenses } }
      vulnerabilities(includeSuppressed: true) { id aliases summary severity package version packageVersion fixed suppressed vex { status justification impact action author statedAt until expired } }
    }
  }
}`;

const QG = graphql`query ComponentGovernance($name: String!, $version: String!) {
  approvals(component: $name, version: $version) { environment decision approver comment at }
  policyViolations(component: $name, first: 20) { environment cluster namespace workload version deployer at reasons { policy message } }
  drift(component: $name) { environment cluster namespace workload version source since until }
}`;

const LIST = graphql`query Components($prefix: String!, $after: String) {
  components(prefix: $prefix, first: 100, after: $after) {
    totalCount nodes { name latestVersion versionCount owner { name } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export async function renderList(ctx) {
  setTitle('Components');
  const prefix = ctx.params.get('prefix') || '';
  const d = await gql(LIST, { prefix }, { signal: ctx.signal });
  add(ctx.main, h('h1', {}, `Components (${nf.format(d.components.totalCount)})`), prefix ? h('p', { class: 'subtitle' }, 'named ', h('code', {}, `${prefix}…`)) : null,
    paged(h('div'), d.components, (rows) => (rows.length ? table(null, [
      { label: 'Component', cell: (c) => link(componentHref(c.name), c.name) },
      { label: 'Latest', cell: (c) => c.latestVersion || '—' },
      { label: 'Versions', num: true, cell: (c) => nf.format(c.versionCount) },
      { label: 'Owner', cell: (c) => (c.owner ? link(teamHref(c.owner.name), c.owner.name) : '—') },
    ], rows) : empty('No components.')),
    async (after) => { const m = await gql(LIST, { prefix, after }, { signal: ctx.signal }); return ctx.alive() ? m.components : null; }));
}

export function contactList(contacts) {
  const items = [];
  if (contacts?.email) items.push(h('li', {}, 'Email: ', h('a', { href: `mailto:${contacts.email}` }, contacts.email)));
  if (contacts?.chat) items.push(h('li', {}, 'Chat: ', h('span', { class: 'mono' }, contacts.chat)));
  if (contacts?.pager) items.push(h('li', {}, 'Pager: ', h('span', { class: 'mono' }, contacts.pager)));
  return items.length ? h('ul', { class: 'contacts' }, items) : h('p', { class: 'muted' }, 'No contacts recorded.');
}

export function ownerCard(owner, heading = 'Owner') {
  return h('section', { class: 'card owner-card', 'aria-label': heading },
    h('h2', {}, heading),
    owner
      ? [h('p', {}, link(teamHref(owner.name), h('strong', {}, owner.title || owner.name)), owner.title ? h('span', { class: 'muted' }, ` (${owner.name})`) : null,
        owner.parent ? h('span', { class: 'muted' }, ` · part of ${owner.parent}`) : null),
      contactList(owner.contacts)]
      : h('p', { class: 'muted' }, 'Nobody owns this component yet.'));
}

export function deploymentWhere(d) {
  return [
    d.environment ? [link(inventoryHref({ environment: d.environment }), d.environment), ' / '] : null,
    link(inventoryHref({ cluster: d.cluster }), d.cluster), ' / ',
    link(inventoryHref({ cluster: d.cluster, namespace: d.namespace }), d.namespace), ' / ', h('strong', {}, d.workload),
  ];
}

// What a VEX statement says about a match that still counts: under investigation, affected
// (with the action), or a suppression that expired.
function vexNote(x) {
  if (!x) return null;
  if (x.expired) return h('div', { class: 'tag bad' }, `suppression expired ${x.until ? x.until.slice(0, 16).replace('T', ' ') : ''}`);
  return h('div', { class: 'muted' }, `VEX: ${x.status.replaceAll('_', ' ')}`, x.action ? ` — ${x.action}` : '', ` (${x.author})`);
}

export function vulnTable(vulns, caption) {
  return vulns.length ? table(caption, [
    { label: 'Vulnerability', cell: (v) => [link(vulnHref(v.id), v.id), v.aliases.length ? h('div', { class: 'muted' }, v.aliases.join(', ')) : null, vexNote(v.vex)] },
    { label: 'Package', cell: (v) => [link(blastHref({ purl: v.packageVersion }), `${v.package}`), ' ', h('span', { class: 'mono' }, v.version)] },
    { label: 'Fixed in', cell: (v) => (v.fixed.length ? tags(v.fixed, 'good') : h('span', { class: 'muted' }, 'no fix')) },
    { label: 'Summary', cell: (v) => [v.summary || '', ' ', tags(v.severity, 'bad')] },
  ], vulns) : empty('No known vulnerabilities in its packages.');
}

// Matches a VEX statement takes out of the counts, shown apart with who said so and why.
export function suppressedTable(vulns, caption) {
  return table(caption, [
    { label: 'Vulnerability', cell: (v) => [link(vulnHref(v.id), v.id), v.aliases.length ? h('div', { class: 'muted' }, v.aliases.join(', ')) : null] },
    { label: 'Package', cell: (v) => [h('span', {}, v.package), ' ', h('span', { class: 'mono' }, v.version)] },
    { label: 'Status', cell: (v) => h('span', { class: 'tag good' }, v.vex.status.replaceAll('_', ' ')) },
    { label: 'Justification', cell: (v) => [v.vex.justification || '', v.vex.impact ? h('div', { class: 'muted' }, v.vex.impact) : null] },
    { label: 'Stated by', cell: (v) => [v.vex.author, ' ', time(v.vex.statedAt), v.vex.until ? h('div', { class: 'muted' }, 'until ', time(v.vex.until)) : null] },
  ], vulns);
}

// The vulnerabilities of an image: those that count, then those VEX suppresses.
export function vulnSections(all, level) {
  const counted = all.filter((v) => !v.suppressed);
  const suppressed = all.filter((v) => v.suppressed);
  return [
    h(level, {}, `Vulnerabilities (${counted.length})`),
    vulnTable(counted),
    suppressed.length ? [h(level, {}, `Suppressed by VEX (${suppressed.length})`), suppressedTable(suppressed)] : null,
  ];
}

export function packageTable(items, caption) {
  return table(caption, [
    { label: 'Package', cell: (p) => (p.purl ? link(blastHref({ purl: p.purl }), p.name) : p.name) },
    { label: 'Version', cell: (p) => h('span', { class: 'mono' }, p.version || '—') },
    { label: 'Direct', cell: (p) => (p.direct ? 'direct' : `depth ${p.depth ?? '?'}`) },
    { label: 'Licenses', cell: (p) => tags(p.licenses) },
  ], items);
}

export async function render(ctx) {
  const name = ctx.rest;
  setTitle(name);
  const load = async () => {
    const d = await gql(Q, { name }, { signal: ctx.signal });
    if (!ctx.alive()) return;
    const c = d.component;
    if (!c) {
      fill(ctx.main, h('h1', {}, name), h('p', { class: 'error', role: 'alert' }, `The catalog knows no component named “${name}”.`));
      return;
    }
    const chosen = ctx.params.get('version') || c.latestVersion || c.versions.nodes[0]?.version;
    // "Runs in now" per version, from the deployments loaded (all of them up to 500).
    const byVersion = new Map();
    for (const dep of d.whereIs.nodes) {
      for (const r of dep.runs) {
        if (r.component !== name) continue;
        const k = r.version || '?';
        if (!byVersion.has(k)) byVersion.set(k, []);
        byVersion.get(k).push(dep);
      }
    }
    const byPush = (rows) => rows.slice().sort((a, b) => (b.pushedAt || '').localeCompare(a.pushedAt || ''));
    const versions = byPush(c.versions.nodes);
    const versionsTable = (rows) => table(`Versions (${nf.format(c.versions.totalCount)})`, [
      { label: 'Version', cell: (v) => link(componentHref(name, v.version), h('strong', {}, v.version)) },
      { label: 'Digest', cell: (v) => link(imageHref(v.digest), h('code', { title: v.digest }, shortDigest(v.digest))) },
      { label: 'Tags', cell: (v) => tags(v.tags) },
      { label: 'Revision', cell: (v) => revisionLink(v.source, v.revision) },
      { label: 'Created', cell: (v) => time(v.created) },
      { label: 'Pushed', cell: (v) => time(v.pushedAt) },
      { label: 'Runs in now', cell: (v) => { const ds = byVersion.get(v.version) || []; return ds.length ? h('ul', { class: 'plain' }, ds.map((x) => h('li', {}, deploymentWhere(x)))) : h('span', { class: 'muted' }, 'nowhere'); } },
      { label: 'Blast radius', cell: (v) => link(blastHref({ component: name, version: v.version }), 'blast radius') },
    ], byPush(rows).map((v) => ({ ...v, __class: v.version === chosen ? 'chosen' : null })), { class: 'versions' });
    const moreVersions = async (after) => {
      const m = await gql(MORE_VERSIONS, { name, after }, { signal: ctx.signal });
      return ctx.alive() && m.component ? m.component.versions : null;
    };

    const runs = d.whereIs;
    const sel = h('select', { id: 'version-pick', 'aria-label': 'Version to inspect' }, versions.map((v) => h('option', { value: v.version, selected: v.version === chosen }, v.version)));
    sel.addEventListener('change', () => ctx.navigate(componentHref(name, sel.value), { replace: true }));
    const versionDetail = h('div', {}, h('p', { class: 'muted' }, 'Loading packages…'));
    const governance = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));

    fill(ctx.main,
      h('div', { class: 'crumbs' }, link('/components', 'Components'), ' /'),
      h('h1', {}, name),
      h('p', { class: 'subtitle' }, c.latestVersion ? ['Latest ', h('strong', {}, c.latestVersion), ` · ${nf.format(c.versionCount)} versions`] : 'No versions yet',
        c.applications.length ? [' · part of ', c.applications.map((a, i) => [i ? ', ' : '', link(appHref(a.name), a.name)])] : null,
        ' · ', link(blastHref({ component: name }), 'Blast radius of this component')),
      h('div', { class: 'split' },
        paged(h('div'), c.versions, versionsTable, moreVersions),
        h('div', {},
          ownerCard(c.owner),
          h('section', { class: 'card', 'aria-labelledby': 'deps-h' },
            h('h2', { id: 'deps-h' }, 'Dependencies'),
            h('h3', {}, `Depends on (${c.dependencies.length})`),
            c.dependencies.length ? h('ul', {}, c.dependencies.map((x) => h('li', {}, link(componentHref(x.name), x.name)))) : empty('Nothing declared.'),
            h('h3', {}, `Depended on by (${c.dependents.length})`),
            c.dependents.length ? h('ul', {}, c.dependents.map((x) => h('li', {}, link(componentHref(x.name), x.name)))) : empty('Nothing declared.')))),
      h('section', { 'aria-labelledby': 'runs-h' },
        h('h2', { id: 'runs-h' }, `Where it runs now (${nf.format(runs.totalCount)})`),
        paged(h('div'), runs, (rows) => (rows.length ? table(null, [
          { label: 'Where', cell: (x) => deploymentWhere(x) },
          { label: 'Version', cell: (x) => h('span', {}, ...x.runs.filter((r) => r.component === name).flatMap((r, i) => [i ? ', ' : '', r.version || shortDigest(r.digest), r.trafficPercent == null ? '' : ' ', shareTag(r)])) },
          { label: 'Status', cell: (x) => h('span', { class: `status-${x.status}` }, x.status.toLowerCase()) },
          { label: 'Replicas', num: true, cell: (x) => (x.replicas ?? '—') },
          { label: 'Since', cell: (x) => time(x.since) },
        ], rows, { class: 'runs' }) : empty('Not running anywhere the catalog has heard of.')),
        async (after) => { const m = await gql(MORE_RUNS, { name, after }, { signal: ctx.signal }); return ctx.alive() ? m.whereIs : null; })),
      h('section', { 'aria-labelledby': 'gov-h' },
        h('h2', { id: 'gov-h' }, 'Release governance'),
        governance),
      h('section', { 'aria-labelledby': 'pk-h' },
        h('h2', { id: 'pk-h' }, 'Packages and vulnerabilities of ', h('label', { for: 'version-pick', class: 'visually-hidden' }, 'version'), sel),
        versionDetail),
    );
    if (!chosen) {
      fill(versionDetail, empty('No version to inspect.'));
      fill(governance, empty('No version to inspect.'));
      return;
    }
    const g = await gql(QG, { name, version: chosen }, { signal: ctx.signal });
    if (!ctx.alive()) return;
    const where = (x) => `${x.environment ? `${x.environment} · ` : ''}${x.cluster}/${x.namespace}/${x.workload}`;
    fill(governance,
      h('h3', {}, `Approvals of ${chosen} (${g.approvals.length})`),
      g.approvals.length ? table(null, [
        { label: 'Environment', cell: (a) => a.environment },
        { label: 'Decision', cell: (a) => a.decision },
        { label: 'By', cell: (a) => a.approver },
        { label: 'Comment', cell: (a) => a.comment || '—' },
        { label: 'When', cell: (a) => time(a.at) },
      ], g.approvals) : empty('Nobody approved or rejected this version yet.'),
      h('h3', {}, `Went out against policy (${g.policyViolations.length})`),
      g.policyViolations.length ? table(null, [
        { label: 'When', cell: (v) => time(v.at) },
        { label: 'Version', cell: (v) => v.version },
        { label: 'Where', cell: where },
        { label: 'Deployer', cell: (v) => v.deployer },
        { label: 'Why', cell: (v) => h('ul', { class: 'reasons' }, v.reasons.map((r) => h('li', {}, h('code', {}, r.policy), ': ', r.message))) },
      ], g.policyViolations) : empty('No deployment of this component went out against policy.'),
      h('h3', {}, `Unrecorded changes (${g.drift.length})`),
      g.drift.length ? table(null, [
        { label: 'Seen', cell: (x) => time(x.since) },
        { label: 'Version', cell: (x) => x.version || '—' },
        { label: 'Where', cell: where },
        { label: 'Shown by', cell: (x) => x.source },
        { label: 'Until', cell: (x) => (x.until ? time(x.until) : 'still running') },
      ], g.drift) : empty('Every deployment of this component was recorded by a pipeline.'),
    );
    const v = (await gql(QV, { name, version: chosen }, { signal: ctx.signal })).component?.version;
    if (!ctx.alive()) return;
    if (!v) { fill(versionDetail, empty(`No version ${chosen}.`)); return; }
    const sbom = v.image?.sbom;
    fill(versionDetail,
      h('p', { class: 'muted' }, sbom ? `${sbom.format} ${sbom.specVersion} SBOM: ${nf.format(sbom.packageCount)} packages, ${nf.format(sbom.directCount)} direct.` : 'No SBOM attached to this version’s image.'),
      vulnSections(v.vulnerabilities, 'h3'),
      h('h3', {}, `Packages (${nf.format(v.packages.totalCount)})`),
      v.packages.nodes.length ? packageTable(v.packages.nodes) : empty('No packages known.'),
      v.packages.pageInfo.hasNextPage ? h('p', {}, link(imageHref(v.digest), 'All packages on the image page')) : null,
    );
  };
  await load();
  // A deployment by image reference names no component: any deployment may move "where it
  // runs", and the page's one query is cheap.
  ctx.onLeave(onChange((ch) => touches(ch, `component:${name}`) || ch.kind === 'deployment.observed' || ch.kind === 'cluster.snapshot', () => load().catch(() => {})));
}

export { enc };
