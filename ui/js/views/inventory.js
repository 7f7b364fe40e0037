// Inventory: environment > cluster > namespace with what runs there, now or as it was at a
// chosen moment, and the difference between two environments. Every choice is in the URL.
// Live: while showing "now", a deployment in scope re-renders the tree.

import { gql, graphql } from '../api.js';
import { add, field, fill, h, link, table, time, empty, componentHref, inventoryHref, setTitle, nf, shortDigest, shareTag, paged } from '../dom.js';
import { onChange } from '../live.js';

const ENVS = graphql`{ environments { name clusters } clusters { name environment } }`;
const INV = graphql`query Inventory($environment: String, $cluster: String, $namespace: String, $at: DateTime, $after: String) {
  inventory(environment: $environment, cluster: $cluster, namespace: $namespace, at: $at, first: 500, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id environment cluster namespace workload status since until replicas source revision url
      runs { container component version digest known owner trafficPercent track } }
  }
}`;
const DIFF = graphql`query Diff($from: ScopeInput!, $to: ScopeInput!, $at: DateTime, $after: String) {
  inventoryDiff(from: $from, to: $to, at: $at, first: 500, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { component fromVersions toVersions change }
    configuration { key fromValue toValue }
  }
}`;

/** `datetime-local` value (local time) for an ISO instant, and back. */
function toLocalInput(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function fromLocalInput(v) {
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function runsCell(d) {
  return h('ul', { class: 'plain' }, d.runs.map((r) => h('li', {},
    r.component ? link(componentHref(r.component, r.version), `${r.component} ${r.version || ''}`) : h('code', {}, r.digest ? shortDigest(r.digest) : (r.container || '?')),
    shareTag(r),
    r.known ? null : h('span', { class: 'tag warn', title: 'An image the catalog never saw pushed' }, 'unknown image'))));
}

export async function render(ctx) {
  const p = ctx.params;
  const scope = { environment: p.get('environment') || null, cluster: p.get('cluster') || null, namespace: p.get('namespace') || null };
  const at = p.get('at') || null;
  const compareA = p.get('compare') || '';
  const compareB = p.get('with') || '';
  const where = scope.namespace ? `${scope.cluster || ''}/${scope.namespace}` : scope.cluster || scope.environment || 'everywhere';
  setTitle(`Inventory ${where}`);

  const meta = await gql(ENVS, {}, { signal: ctx.signal });
  if (!ctx.alive()) return;
  const envNames = meta.environments.map((e) => e.name);
  const set = (changes) => {
    const q = new URLSearchParams(p);
    for (const [k, v] of Object.entries(changes)) { if (v) q.set(k, v); else q.delete(k); }
    const s = q.toString();
    ctx.navigate(s ? `/inventory?${s}` : '/inventory');
  };

  const envSel = h('select', { id: 'inv-env' }, h('option', { value: '' }, 'All environments'), envNames.map((e) => h('option', { value: e, selected: e === scope.environment }, e)));
  envSel.addEventListener('change', () => set({ environment: envSel.value, cluster: null, namespace: null }));
  const clusterSel = h('select', { id: 'inv-cluster' }, h('option', { value: '' }, 'All clusters'),
    meta.clusters.filter((c) => !scope.environment || c.environment === scope.environment).map((c) => h('option', { value: c.name, selected: c.name === scope.cluster }, c.name)));
  clusterSel.addEventListener('change', () => set({ cluster: clusterSel.value, namespace: null }));
  const atInput = h('input', { id: 'inv-at', type: 'datetime-local', value: at ? toLocalInput(at) : '', step: 60 });
  const atForm = h('form', { class: 'toolbar', 'aria-label': 'Moment' },
    field('inv-at', 'As it was at (your local time)', atInput),
    h('button', { type: 'submit' }, 'Show'),
    h('button', { type: 'button', onclick: () => set({ at: null }), disabled: !at }, 'Now'));
  atForm.addEventListener('submit', (e) => { e.preventDefault(); set({ at: atInput.value ? fromLocalInput(atInput.value) : null }); });

  const aSel = h('select', { id: 'cmp-a' }, h('option', { value: '' }, '—'), envNames.map((e) => h('option', { value: e, selected: e === compareA }, e)));
  const bSel = h('select', { id: 'cmp-b' }, h('option', { value: '' }, '—'), envNames.map((e) => h('option', { value: e, selected: e === compareB }, e)));
  const cmpForm = h('form', { class: 'toolbar', 'aria-label': 'Compare environments' },
    field('cmp-a', 'Compare environment', aSel),
    field('cmp-b', 'with', bSel),
    h('button', { type: 'submit' }, 'Compare'));
  cmpForm.addEventListener('submit', (e) => { e.preventDefault(); set({ compare: aSel.value, with: bSel.value }); });

  const treeSlot = h('div', { class: 'tree' });
  const diffSlot = h('div');
  add(ctx.main, 
    h('div', { class: 'crumbs' }, link('/inventory', 'Inventory'), ' /'),
    h('h1', {}, `Inventory: ${where}`),
    h('p', { class: 'subtitle', id: 'inv-moment' }, at ? ['As it was at ', h('time', { datetime: at }, new Date(at).toLocaleString()), ` (${at})`] : 'Now, live.'),
    h('div', { class: 'toolbar' },
      field('inv-env', 'Environment', envSel),
      field('inv-cluster', 'Cluster', clusterSel),
      scope.namespace ? h('span', {}, 'Namespace ', h('strong', {}, scope.namespace), ' ', link(inventoryHref({ ...scope, namespace: null, at }), '(all)')) : null),
    atForm,
    diffSlot,
    h('section', { 'aria-labelledby': 'tree-h' }, h('h2', { id: 'tree-h' }, 'What runs there'), treeSlot),
    h('section', { 'aria-labelledby': 'cmp-h' }, h('h2', { id: 'cmp-h' }, 'Difference between two environments'), cmpForm),
  );

  const load = async () => {
    const d = await gql(INV, { ...scope, at }, { signal: ctx.signal });
    if (!ctx.alive()) return;
    // The tree of the workloads loaded so far (500 at a time, by cluster, namespace, workload).
    paged(treeSlot, d.inventory, (rows) => treeOf(rows), async (after) => {
      const m = await gql(INV, { ...scope, at, after }, { signal: ctx.signal });
      return ctx.alive() ? m.inventory : null;
    });
  };

  const treeOf = (rows) => {
    const tree = new Map();
    for (const dep of rows) {
      const env = dep.environment || '(no environment)';
      if (!tree.has(env)) tree.set(env, new Map());
      const cl = tree.get(env);
      if (!cl.has(dep.cluster)) cl.set(dep.cluster, new Map());
      const ns = cl.get(dep.cluster);
      if (!ns.has(dep.namespace)) ns.set(dep.namespace, []);
      ns.get(dep.namespace).push(dep);
    }
    const count = (m) => [...m.values()].reduce((n, v) => n + (v instanceof Map ? count(v) : v.length), 0);
    return rows.length ? [...tree.entries()].sort().map(([env, clusters]) =>
      h('details', { open: true, class: 'env' }, h('summary', {}, h('span', { class: 'kind' }, 'environment '), h('strong', {}, env), h('span', { class: 'count' }, ` · ${nf.format(count(clusters))} workloads`)),
        [...clusters.entries()].sort().map(([cluster, nss]) =>
          h('details', { open: true, class: 'cluster' }, h('summary', {}, h('span', { class: 'kind' }, 'cluster '), link(inventoryHref({ cluster, at }), cluster), h('span', { class: 'count' }, ` · ${nf.format(count(nss))} workloads`)),
            [...nss.entries()].sort().map(([ns, deps]) =>
              h('details', { open: true, class: 'namespace' }, h('summary', {}, h('span', { class: 'kind' }, 'namespace '), link(inventoryHref({ cluster, namespace: ns, at }), ns), h('span', { class: 'count' }, ` · ${deps.length} workloads`)),
                table(null, [
                  { label: 'Workload', cell: (x) => h('strong', {}, x.workload) },
                  { label: 'Runs', cell: runsCell },
                  { label: 'Status', cell: (x) => h('span', { class: `status-${x.status}` }, x.status.toLowerCase()) },
                  { label: 'Replicas', num: true, cell: (x) => x.replicas ?? '—' },
                  { label: 'Since', cell: (x) => time(x.since) },
                  { label: 'By', cell: (x) => (x.url ? h('a', { href: x.url, rel: 'noopener noreferrer' }, x.source) : x.source) },
                ], deps.sort((a, b) => a.workload.localeCompare(b.workload)), { class: 'workloads' }))))))) : empty(at ? 'Nothing ran there at that moment.' : 'Nothing runs there.');
  };

  const loadDiff = async () => {
    if (!compareA || !compareB) return;
    const d = await gql(DIFF, { from: { environment: compareA }, to: { environment: compareB }, at }, { signal: ctx.signal });
    if (!ctx.alive()) return;
    const label = { ONLY_IN_FROM: `only in ${compareA}`, ONLY_IN_TO: `only in ${compareB}`, VERSIONS_DIFFER: 'versions differ' };
    const vars = { from: { environment: compareA }, to: { environment: compareB }, at };
    fill(diffSlot, h('section', { 'aria-labelledby': 'diff-h' },
      h('h2', { id: 'diff-h' }, `${compareA} compared with ${compareB}${at ? ` at ${new Date(at).toLocaleString()}` : ''}`),
      paged(h('div'), d.inventoryDiff, (rows) => (rows.length ? table(null, [
        { label: 'Component', cell: (x) => link(componentHref(x.component), x.component) },
        { label: compareA, cell: (x) => x.fromVersions.join(', ') || '—' },
        { label: compareB, cell: (x) => x.toVersions.join(', ') || '—' },
        { label: 'Difference', cell: (x) => h('span', { class: x.change === 'VERSIONS_DIFFER' ? 'diff-changed' : x.change === 'ONLY_IN_FROM' ? 'diff-removed' : 'diff-added' }, label[x.change]) },
      ], rows, { class: 'env-diff' }) : empty('They run the same versions of the same components.')),
      async (after) => { const m = await gql(DIFF, { ...vars, after }, { signal: ctx.signal }); return ctx.alive() ? m.inventoryDiff : null; }),
      h('h3', { id: 'cfg-diff-h' }, `Configuration (${nf.format(d.inventoryDiff.configuration.length)} keys differ)`),
      d.inventoryDiff.configuration.length ? table(null, [
        { label: 'Key', cell: (x) => h('code', {}, x.key) },
        { label: compareA, cell: (x) => (x.fromValue == null ? h('span', { class: 'diff-removed' }, 'not set') : h('code', {}, x.fromValue)) },
        { label: compareB, cell: (x) => (x.toValue == null ? h('span', { class: 'diff-removed' }, 'not set') : h('code', {}, x.toValue)) },
      ], d.inventoryDiff.configuration, { class: 'config-diff' }) : empty('Their configuration is the same.')));
  };

  await Promise.all([load(), loadDiff()]);
  if (!at) {
    ctx.onLeave(onChange((c) => (c.kind === 'deployment.observed' || c.kind === 'cluster.snapshot')
      && (!scope.cluster || c.subjects.includes(`cluster:${scope.cluster}`)), () => { load().catch(() => {}); loadDiff().catch(() => {}); }));
  }
}
