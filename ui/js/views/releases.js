// Releases: per environment, the policy set in force (and why the newest was refused), the
// release calendar (with its iCalendar feed), what went out against policy, and drift
// (what runs that no pipeline recorded). Everything from the API is rendered as text.

import { gql, graphql } from '../api.js';
import { add, h, link, table, empty, componentHref, setTitle, time, enc } from '../dom.js';

const RELEASES = graphql`query Releases($environment: String) {
  environments { name }
  policies { inForce { digest loadedAt files { file package } } lastError { file message } }
  calendar(environment: $environment) { id kind environment summary start end component version }
  policyViolations(environment: $environment, first: 100) {
    environment cluster namespace workload component version deployer at reasons { policy message } }
  drift(environment: $environment) {
    environment cluster namespace workload component version reference source since until }
}`;

const where = (d) => `${d.cluster}/${d.namespace}/${d.workload}`;
const what = (d) => (d.component
  ? link(componentHref(d.component, d.version), `${d.component} ${d.version || ''}`.trim())
  : h('code', {}, d.reference || '—'));

export async function render(ctx) {
  const environment = ctx.params.get('environment') || null;
  setTitle(environment ? `Releases · ${environment}` : 'Releases');
  const d = await gql(RELEASES, { environment }, { signal: ctx.signal });
  const envs = d.environments.map((e) => e.name);
  const p = d.policies;
  add(ctx.main,
    h('h1', {}, environment ? `Releases · ${environment}` : 'Releases'),
    h('nav', { class: 'chips', 'aria-label': 'Environments' },
      link('/releases', environment ? 'All environments' : h('strong', {}, 'All environments')),
      envs.map((e) => [' ', link(`/releases?environment=${enc(e)}`, e === environment ? h('strong', {}, e) : e)])),
    h('section', { class: 'card', 'aria-labelledby': 'pol-h' },
      h('h2', { id: 'pol-h' }, 'Policies'),
      p.lastError ? h('p', { class: 'error', role: 'alert' },
        'The newest policy set was refused, the one below stays in force: ', h('code', {}, p.lastError.file), ': ', p.lastError.message) : null,
      p.inForce
        ? [h('p', {}, 'In force since ', time(p.inForce.loadedAt), ': ', h('code', {}, p.inForce.digest.slice(0, 19))),
          table(null, [
            { label: 'File', cell: (f) => h('code', {}, f.file) },
            { label: 'Package', cell: (f) => f.package },
          ], p.inForce.files)]
        : empty('No policy set is in force: every deployment is allowed.')),
    h('h2', {}, `Calendar (${d.calendar.length})`),
    environment ? h('p', {}, h('a', { href: `/calendar/${enc(environment)}.ics` }, `Subscribe: ${environment}.ics`)) : null,
    d.calendar.length ? table(null, [
      { label: 'Kind', cell: (e) => e.kind },
      { label: 'Summary', cell: (e) => e.summary },
      { label: 'Environment', cell: (e) => e.environment },
      { label: 'Release', cell: (e) => (e.component ? what(e) : '—') },
      { label: 'Starts', cell: (e) => time(e.start) },
      { label: 'Ends', cell: (e) => time(e.end) },
    ], d.calendar) : empty('No release windows, freezes or planned releases.'),
    h('h2', {}, `Went out against policy (${d.policyViolations.length})`),
    d.policyViolations.length ? table(null, [
      { label: 'When', cell: (v) => time(v.at) },
      { label: 'What', cell: what },
      { label: 'Where', cell: (v) => [v.environment ? `${v.environment} · ` : '', where(v)] },
      { label: 'Deployer', cell: (v) => v.deployer },
      { label: 'Why', cell: (v) => h('ul', { class: 'reasons' }, v.reasons.map((r) => h('li', {}, h('code', {}, r.policy), ': ', r.message))) },
    ], d.policyViolations) : empty('Nothing went out against policy.'),
    h('h2', {}, `Unrecorded changes (${d.drift.length})`),
    d.drift.length ? table(null, [
      { label: 'Seen', cell: (x) => time(x.since) },
      { label: 'What', cell: what },
      { label: 'Where', cell: (x) => [x.environment ? `${x.environment} · ` : '', where(x)] },
      { label: 'Shown by', cell: (x) => x.source },
      { label: 'Until', cell: (x) => (x.until ? time(x.until) : 'still running') },
    ], d.drift) : empty('Everything running was recorded by a pipeline.'));
}
