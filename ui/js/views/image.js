// An image by digest: where it was pushed, what it is built from, its packages and their
// vulnerabilities, the component versions built from it, and a way to its blast radius.

import { gql, graphql } from '../api.js';
import { add, h, link, time, empty, tags, componentHref, blastHref, setTitle, nf, paged } from '../dom.js';
import { packageTable, vulnSections } from './component.js';

const PACKAGES = graphql`query ImagePackages($digest: String!, $after: String) {
  image(digest: $digest) { packages(first: 500, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { name version purl direct depth licenses } } }
}`;

const Q = graphql`query Image($digest: String!) {
  image(digest: $digest) {
    digest mediaType size created registered
    platforms { name digest }
    labels { name value }
    repositories { registry repository tags pushedAt deletedAt }
    sbom { format specVersion packageCount directCount via attachedAt }
    componentVersions { component version }
    packages(first: 500) { totalCount pageInfo { hasNextPage endCursor } nodes { name version purl direct depth licenses } }
    vulnerabilities(includeSuppressed: true) { id aliases summary severity package version packageVersion fixed suppressed vex { status justification impact action author statedAt until expired } }
  }
}`;

export async function render(ctx) {
  const digest = ctx.rest;
  setTitle(digest.slice(0, 19), 'Image');
  const i = (await gql(Q, { digest }, { signal: ctx.signal })).image;
  add(ctx.main, h('div', { class: 'crumbs' }, 'Images /'), h('h1', { class: 'mono' }, digest));
  if (!i) {
    add(ctx.main, h('p', { class: 'error', role: 'alert' }, 'The catalog has never seen this image.'));
    return;
  }
  const packagesSlot = h('div');
  add(ctx.main, 
    h('p', { class: 'subtitle' }, i.componentVersions.map((v, n) => [n ? ', ' : '', link(componentHref(v.component, v.version), `${v.component} ${v.version}`)]),
      ' · ', link(blastHref({ image: i.digest }), 'Blast radius of this image')),
    h('div', { class: 'grid' },
      h('section', { class: 'card', 'aria-label': 'Manifest' }, h('h2', {}, 'Manifest'), h('dl', {},
        h('dt', {}, 'Media type'), h('dd', { class: 'mono' }, i.mediaType),
        h('dt', {}, 'Size'), h('dd', {}, `${nf.format(i.size)} bytes`),
        h('dt', {}, 'Created'), h('dd', {}, time(i.created)),
        h('dt', {}, 'Platforms'), h('dd', {}, tags(i.platforms.map((p) => p.name))),
        h('dt', {}, 'SBOM'), h('dd', {}, i.sbom ? `${i.sbom.format} ${i.sbom.specVersion}, ${nf.format(i.sbom.packageCount)} packages (via ${i.sbom.via})` : 'none'))),
      h('section', { class: 'card', 'aria-label': 'Pushed to' }, h('h2', {}, 'Pushed to'),
        h('ul', {}, i.repositories.map((r) => h('li', {}, h('span', { class: 'mono' }, `${r.registry}/${r.repository}`), ' ', tags(r.tags), ' ', time(r.pushedAt), r.deletedAt ? h('span', { class: 'tag bad' }, 'deleted') : null)))),
      h('section', { class: 'card', 'aria-label': 'Labels' }, h('h2', {}, 'Labels'),
        i.labels.length ? h('dl', {}, i.labels.map((l) => [h('dt', { class: 'mono' }, l.name), h('dd', { class: 'mono' }, l.value)])) : empty('None.'))),
    vulnSections(i.vulnerabilities, 'h2'),
    h('h2', {}, `Packages (${nf.format(i.packages.totalCount)})`),
    packagesSlot,
  );
  paged(packagesSlot, i.packages, (rows) => (rows.length ? packageTable(rows) : empty('No SBOM attached.')), async (after) => {
    const d = await gql(PACKAGES, { digest, after }, { signal: ctx.signal });
    return ctx.alive() ? d.image?.packages ?? null : null;
  });
}
