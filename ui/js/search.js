// The one search box (every page, `/` to focus): results as you type, grouped by kind, as
// an ARIA combobox. Enter on a pasted purl, digest or `vers:` range goes straight to its
// blast radius; Enter on plain text opens the full results page.

import { gql, graphql } from './api.js';
import { add, fill, h, componentHref, teamHref, imageHref, appHref, vulnHref, blastHref, inventoryHref } from './dom.js';

export const KINDS = [
  ['COMPONENT', 'Components'],
  ['PACKAGE', 'Packages'],
  ['IMAGE', 'Images'],
  ['TEAM', 'Teams'],
  ['CLUSTER', 'Clusters'],
  ['APPLICATION', 'Applications'],
  ['VULNERABILITY', 'Vulnerabilities'],
];

export const SEARCH = graphql`query Search($text: String!, $first: Int!) {
  search(text: $text, first: $first) { kind id detail score }
}`;

/** Where a hit leads. Packages open their blast radius: that is what a package page is for. */
export function hitHref(hit) {
  switch (hit.kind) {
    case 'COMPONENT': return componentHref(hit.id);
    case 'PACKAGE': return blastHref({ purl: hit.id });
    case 'IMAGE': return imageHref(hit.id);
    case 'TEAM': return teamHref(hit.id);
    case 'CLUSTER': return inventoryHref({ cluster: hit.id });
    case 'APPLICATION': return appHref(hit.id);
    case 'VULNERABILITY': return vulnHref(hit.id);
    default: return '/';
  }
}

/** A pasted identifier that has a blast radius of its own, or null. */
export function directTarget(text) {
  const t = text.trim();
  // A package and a range, e.g. `pkg:maven/org.apache.logging.log4j/log4j-core vers:maven/>=2.0.0|<2.15.0`.
  const ranged = t.match(/^(pkg:[a-z0-9.+-]+\/\S+)\s+(vers:[a-z0-9.+-]+\/\S+)$/i);
  if (ranged) return { purl: ranged[1], vers: ranged[2] };
  if (/^pkg:[a-z0-9.+-]+\/\S+$/i.test(t)) return { purl: t };
  if (/^sha256:[0-9a-f]{64}$/i.test(t)) return { image: t.toLowerCase() };
  return null;
}

export function initSearch(navigate) {
  const form = document.getElementById('search-form');
  const input = document.getElementById('search-input');
  const box = document.getElementById('search-results');
  let options = [];
  let active = -1;
  let seq = 0;
  let timer = null;

  const close = () => {
    box.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const setActive = (i) => {
    options.forEach((o, j) => o.setAttribute('aria-selected', String(i === j)));
    active = i;
    if (i >= 0) {
      input.setAttribute('aria-activedescendant', options[i].id);
      options[i].scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  };
  const go = (href) => {
    close();
    input.blur();
    navigate(href);
  };

  const show = (text, hits) => {
    box.replaceChildren();
    options = [];
    const target = directTarget(text);
    if (target) {
      const o = h('div', { role: 'option', id: 'search-opt-direct', 'aria-selected': 'false', dataset: { href: blastHref(target) } },
        h('span', { class: 'kind' }, 'Blast radius'), h('span', { class: 'hit-id' }, text.trim()));
      add(box, o);
      options.push(o);
    }
    for (const [kind, label] of KINDS) {
      const group = hits.filter((x) => x.kind === kind);
      if (!group.length) continue;
      const gid = `search-group-${kind}`;
      add(box, h('div', { class: 'group-label', id: gid, role: 'presentation' }, label));
      for (const hit of group) {
        const o = h('div', { role: 'option', id: `search-opt-${options.length}`, 'aria-selected': 'false', 'aria-describedby': gid, dataset: { href: hitHref(hit) } },
          h('span', { class: 'hit-id' }, hit.id), hit.detail ? h('span', { class: 'hit-detail' }, hit.detail) : null);
        add(box, o);
        options.push(o);
      }
    }
    if (/^vers:/i.test(text.trim())) {
      add(box, h('div', { class: 'group-label', role: 'presentation' }, 'A vers: range needs its package: paste “pkg:type/namespace/name vers:…”'));
    }
    if (!options.length) add(box, h('div', { class: 'group-label', role: 'presentation' }, `Nothing matches “${text}”`));
    box.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    setActive(options.length ? 0 : -1);
  };

  const lookup = async () => {
    const text = input.value;
    const mine = ++seq;
    if (!text.trim()) { close(); return; }
    try {
      const data = await gql(SEARCH, { text, first: 40 });
      if (mine === seq && document.activeElement === input) show(text, data.search);
    } catch (e) {
      if (mine === seq) {
        fill(box, h('div', { class: 'group-label', role: 'presentation' }, `Search failed: ${e.message}`));
        box.hidden = false;
      }
    }
  };

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(lookup, 80);
  });
  input.addEventListener('focus', () => { if (input.value.trim()) lookup(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && options.length) { e.preventDefault(); setActive((active + 1) % options.length); }
    else if (e.key === 'ArrowUp' && options.length) { e.preventDefault(); setActive((active - 1 + options.length) % options.length); }
    else if (e.key === 'Escape') { close(); }
  });
  box.addEventListener('mousedown', (e) => e.preventDefault()); // keep focus in the input
  box.addEventListener('click', (e) => {
    const o = e.target.closest('[role="option"]');
    if (o) go(o.dataset.href);
  });
  input.addEventListener('blur', () => setTimeout(close, 100));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const target = directTarget(text);
    if (target) go(blastHref(target));
    else if (!box.hidden && active >= 0) go(options[active].dataset.href);
    else go(`/search?q=${encodeURIComponent(text)}`);
  });
}
