// Blast radius map: a layered SVG graph drawn left to right by depth (hops from the target).
// Self-contained ES module, no dependencies. Styles live in ui/map.css.
//
//   const map = drawMap(host, { rootId, nodes: [{ id, kind, label, depth, via }] }, {
//     collapseAbove: 12, onOpen(node) {}, onPath(nodes) {}, describe(node) { return '' },
//   });
//   map.expandAll(); map.collapseAll(); map.fit(); map.zoomBy(1.25); map.panBy(dx, dy);
//   map.update(graph); map.stats(); map.destroy();
//
// Design notes:
// - One layout + one innerHTML write per redraw (only on data or expand/collapse changes).
// - Pan/zoom is one CSS transform on the wrapper of the two SVG layers (.map-world), written
//   at most once per animation frame; the SVG is never re-rendered to pan or zoom.
// - Edges are batched into one <path> per stroke width, node boxes into two <path>s per
//   kind; each ordinary node is a single <text> (its label, focus target and aria-label).
// - Pointer hit testing is geometric (column, then binary search), the SVGs take no pointer
//   events: Chromium never hit-tests thousands of path segments on a mouse move.
// - Dimming is one class on the base <svg> (a compositor-only opacity); the highlighted
//   path is redrawn in a small overlay <svg>, so hovering never repaints the base layer.
// - Above SYNC_UNITS drawn boxes, labels are filled in over a few frames (see below).

const SVG_NS = 'http://www.w3.org/2000/svg';
const KINDS = ['package', 'image', 'componentVersion', 'component', 'application', 'applicationVersion', 'deployment', 'team'];
const KIND_RANK = new Map(KINDS.map((k, i) => [k, i]));
const KIND_NAMES = {
  package: ['package', 'packages'],
  image: ['image', 'images'],
  componentVersion: ['component version', 'component versions'],
  component: ['component', 'components'],
  application: ['application', 'applications'],
  applicationVersion: ['application version', 'application versions'],
  deployment: ['deployment', 'deployments'],
  team: ['team', 'teams'],
};

const COL_W = 220; // column pitch
const NODE_W = 172; // node box width
const NODE_H = 22; // node box height
const ROW_H = 28; // row pitch
const HDR_H = 18; // "collapse" header box height
const HDR_ROW = 24; // header row pitch
const BLOCK_GAP = 14; // gap between kind blocks within a column
const PAD = 24; // padding around the drawing
const TEXT_X = 10; // label inset
const LABEL_PX = NODE_W - TEXT_X - 10; // label width budget (px at 12px font)
const MIN_K = 0.05;
const MAX_K = 4;
const CLICK_SLOP2 = 16; // a press that moved < 4px is a click
const BIG = 1e15;
// SVG <text> layout is the dominant rendering cost (~30-60 µs per label on a small
// machine). Up to SYNC_UNITS drawn boxes, every element is written synchronously and every
// node is tabbable. Above, only groups, headers and the root are tabbable (the caller's
// tables are the accessible alternative) and only they are written synchronously;
// the labels of ordinary nodes go into slots of
// SLOT units (empty <g>s in document order) filled a few per animation frame, visible
// slots first, fewer while the user pans or zooms. The boxes and edges are all there at once.
const SYNC_UNITS = 300;
const SLOT = 50;
const LOD_K = 0.3; // below this scale labels are unreadable: no visible-first priority
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'; // as in map.css

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const kindClass = (k) => (KIND_RANK.has(k) ? `k-${k}` : 'k-other');
const kindName = (k, n) => {
  const names = KIND_NAMES[k];
  return names ? names[n === 1 ? 0 : 1] : n === 1 ? String(k) : `${k}s`;
};
const now = () => performance.now();
const mark = (name) => {
  try { performance.mark(name); } catch { /* marks are best effort */ }
};

// Label widths: per-character advances measured once with a canvas in the SVG's computed
// font (cached; kerning ignored, hence the slack in LABEL_PX), with a static estimate as
// the fallback when no canvas is available.
let measureCtx;
let measureFont = '';
const widths = new Map();
function setMeasureFont(font) {
  if (font === measureFont) return;
  measureFont = font;
  widths.clear();
  if (measureCtx === undefined) {
    try {
      measureCtx = document.createElement('canvas').getContext('2d');
    } catch {
      measureCtx = null;
    }
  }
  if (measureCtx) measureCtx.font = font;
}
function charW(c) {
  let w = widths.get(c);
  if (w === undefined) {
    w = measureCtx && measureFont ? measureCtx.measureText(c).width : estimateW(c);
    widths.set(c, w);
  }
  return w;
}
function estimateW(c) {
  if (c >= 'a' && c <= 'z') return c === 'i' || c === 'l' || c === 'j' ? 3 : c === 'f' || c === 't' || c === 'r' ? 4.2 : c === 'm' || c === 'w' ? 9.4 : 6.6;
  if (c >= '0' && c <= '9') return 6.9;
  if (c >= 'A' && c <= 'Z') return c === 'I' ? 3.4 : c === 'M' || c === 'W' ? 10.6 : 8;
  if (c === '.' || c === ',' || c === ':' || c === ';' || c === '|' || c === '!' || c === "'") return 3.2;
  if (c === '/' || c === '-' || c === '(' || c === ')' || c === '[' || c === ']' || c === ' ') return 4;
  if (c === '@' || c === '%') return 10.5;
  return c.charCodeAt(0) > 0x2e80 ? 12 : 6.8;
}
function fitText(s, budget) {
  // "name@version": keep the version, cut the middle of the name
  const at = s.lastIndexOf('@');
  if (at > 0 && s.length - at <= 18) {
    let sw = 0;
    for (let i = at; i < s.length; i++) sw += charW(s[i]);
    if (sw < budget / 2) {
      const head = fitEnd(s.slice(0, at), budget - sw);
      return head.endsWith('…') ? head + s.slice(at) : s;
    }
  }
  return fitEnd(s, budget);
}
function fitEnd(s, budget) {
  let w = 0;
  for (let i = 0; i < s.length; i++) {
    w += charW(s[i]);
    if (w > budget) {
      // cut so that the ellipsis fits too
      const ell = charW('…');
      let j = i;
      w -= charW(s[i]);
      while (j > 0 && w + ell > budget) w -= charW(s[--j]);
      return `${s.slice(0, Math.max(1, j)).trimEnd()}…`;
    }
  }
  return s;
}
const short = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

// ---------------------------------------------------------------------------------------------
// Model: normalise the node list and bucket it by (depth, kind).

const str = (v) => (typeof v === 'string' ? v : String(v));
function buildModel(graph) {
  const recs = new Map();
  const list = graph && Array.isArray(graph.nodes) ? graph.nodes : [];
  for (let i = 0; i < list.length; i++) {
    const node = list[i];
    if (!node || node.id == null) continue;
    const id = str(node.id);
    let d = node.depth;
    if (typeof d !== 'number') d = Number(d);
    recs.set(id, {
      id,
      node,
      kind: node.kind == null ? 'unknown' : str(node.kind),
      label: node.label == null || node.label === '' ? id : str(node.label),
      depth: d > 0 ? Math.floor(d) : 0, // NaN > 0 is false
      via: node.via == null ? null : str(node.via),
      bucket: null,
    });
  }
  const rootId = graph && graph.rootId != null && recs.has(str(graph.rootId)) ? str(graph.rootId) : null;
  const buckets = new Map(); // "depth:kind" -> bucket
  const byDepth = []; // depth -> Map kind -> bucket (avoids building a key per node)
  const kindCounts = new Map();
  for (const r of recs.values()) {
    let kinds = byDepth[r.depth];
    if (!kinds) byDepth[r.depth] = kinds = new Map();
    let b = kinds.get(r.kind);
    if (!b) {
      const key = `${r.depth}:${r.kind}`;
      b = { key, depth: r.depth, kind: r.kind, members: [] };
      kinds.set(r.kind, b);
      buckets.set(key, b);
      kindCounts.set(r.kind, 0);
    }
    b.members.push(r);
    r.bucket = b;
  }
  for (const b of buckets.values()) kindCounts.set(b.kind, kindCounts.get(b.kind) + b.members.length);
  return { recs, rootId, buckets, kindCounts };
}

// The "why" path: root .. id following `via`, as records.
function pathTo(model, id) {
  const out = [];
  const seen = new Set();
  let r = model.recs.get(id);
  while (r && !seen.has(r.id)) {
    seen.add(r.id);
    out.push(r);
    r = r.via == null ? null : model.recs.get(r.via);
  }
  return out.reverse();
}

// ---------------------------------------------------------------------------------------------
// Layout: units (drawn boxes) per depth column, ordered by kind, then barycenter sweeps.

const T_NODE = 0;
const T_GROUP = 1;
const T_HEADER = 2;

function layoutGraph(model, expanded, collapseAbove) {
  const units = [];
  const nodeUnit = new Map(); // rec id -> unit (drawn node or its collapsed group)
  const groupUnit = new Map(); // bucket key -> group unit (collapsed)
  const headerUnit = new Map(); // bucket key -> header unit (expanded, collapsible)
  const cols = new Map(); // depth -> { depth, blocks, h }
  const mk = (t, depth, kind, label, id) => {
    const u = { i: units.length, t, depth, kind, label, id, rec: null, bucket: null, x: 0, y: 0, pb: BIG, sb: BIG, preds: [], succs: [] };
    units.push(u);
    return u;
  };

  for (const b of model.buckets.values()) {
    const n = b.members.length;
    const collapsible = b.depth > 0 && n > collapseAbove;
    const collapsed = collapsible && !expanded.has(b.key);
    let col = cols.get(b.depth);
    if (!col) cols.set(b.depth, (col = { depth: b.depth, blocks: [], h: 0 }));
    const block = { kind: b.kind, rank: KIND_RANK.has(b.kind) ? KIND_RANK.get(b.kind) : 99, header: null, items: [] };
    col.blocks.push(block);
    if (collapsed) {
      const u = mk(T_GROUP, b.depth, b.kind, `${n} ${kindName(b.kind, n)}`, b.key);
      u.bucket = b;
      groupUnit.set(b.key, u);
      block.items.push(u);
      for (const r of b.members) nodeUnit.set(r.id, u);
    } else {
      if (collapsible) {
        const h = mk(T_HEADER, b.depth, b.kind, `${n} ${kindName(b.kind, n)}`, b.key);
        h.bucket = b;
        headerUnit.set(b.key, h);
        block.header = h;
      }
      for (const r of b.members) {
        const u = mk(T_NODE, b.depth, b.kind, r.label, r.id);
        u.rec = r;
        u.bucket = b;
        block.items.push(u);
        nodeUnit.set(r.id, u);
      }
    }
  }

  // Aggregated edges: one per distinct (source unit, target unit).
  const N = units.length;
  const edgeMap = new Map();
  const edges = [];
  for (const r of model.recs.values()) {
    if (r.via == null || r.id === model.rootId) continue;
    const s = nodeUnit.get(r.via);
    const t = nodeUnit.get(r.id);
    if (!s || !t || s === t) continue;
    const k = s.i * N + t.i;
    let e = edgeMap.get(k);
    if (!e) {
      edgeMap.set(k, (e = { s, t, n: 0 }));
      edges.push(e);
      s.succs.push(e);
      t.preds.push(e);
    }
    e.n++;
  }

  const depths = [...cols.keys()].sort((a, b) => a - b);
  const colList = depths.map((d) => cols.get(d));
  for (const col of colList) col.blocks.sort((a, b) => a.rank - b.rank || cmp(a.kind, b.kind));

  const place = (col) => {
    let y = 0;
    for (let bi = 0; bi < col.blocks.length; bi++) {
      const block = col.blocks[bi];
      if (bi > 0) y += BLOCK_GAP;
      if (block.header) {
        block.header.y = y + HDR_ROW / 2;
        y += HDR_ROW;
      }
      const items = block.items;
      for (let j = 0; j < items.length; j++) {
        items[j].y = y + ROW_H / 2;
        y += ROW_H;
      }
    }
    col.h = y;
  };
  const baryPred = (u) => {
    let s = 0;
    let w = 0;
    for (const e of u.preds) { s += e.s.y * e.n; w += e.n; }
    return w ? s / w : BIG;
  };
  const barySucc = (u) => {
    let s = 0;
    let w = 0;
    for (const e of u.succs) { s += e.t.y * e.n; w += e.n; }
    return w ? s / w : BIG;
  };
  const order = (a, b) => a.pb - b.pb || a.sb - b.sb || cmp(a.label, b.label) || cmp(a.id, b.id);
  const sortCol = (col, pred, succ) => {
    for (const block of col.blocks) {
      const items = block.items;
      if (items.length < 2) continue;
      for (const u of items) {
        if (pred) u.pb = baryPred(u);
        if (succ) u.sb = barySucc(u);
      }
      items.sort(order);
    }
    place(col);
  };
  // Sweep 1 (down the depths, by predecessor), sweep 2 (back up, successors break ties
  // between siblings), sweep 3 (down again with the settled positions).
  for (const col of colList) sortCol(col, true, false);
  for (let c = colList.length - 2; c >= 0; c--) sortCol(colList[c], false, true);
  for (const col of colList) sortCol(col, true, false);

  let maxH = 0;
  for (const col of colList) maxH = Math.max(maxH, col.h);
  const maxDepth = depths.length ? depths[depths.length - 1] : 0;
  for (const col of colList) {
    const off = PAD + Math.round((maxH - col.h) / 2);
    const x = PAD + col.depth * COL_W;
    for (const block of col.blocks) {
      if (block.header) { block.header.y += off; block.header.x = x; }
      for (const u of block.items) { u.y += off; u.x = x; }
    }
  }
  // Document order = column, then top to bottom (this is also the Tab order).
  const ordered = [];
  const byDepth = new Map(); // depth -> units top to bottom (hit testing)
  for (const col of colList) {
    const arr = [];
    for (const block of col.blocks) {
      if (block.header) arr.push(block.header);
      for (const u of block.items) arr.push(u);
    }
    byDepth.set(col.depth, arr);
    for (const u of arr) ordered.push(u);
  }
  let drawnNodes = 0;
  let groups = 0;
  for (const u of units) {
    if (u.t === T_NODE) drawnNodes++;
    else if (u.t === T_GROUP) groups++;
  }
  return {
    units: ordered,
    byDepth,
    edges,
    nodeUnit,
    groupUnit,
    headerUnit,
    width: PAD * 2 + maxDepth * COL_W + NODE_W,
    height: PAD * 2 + Math.max(maxH, ROW_H),
    drawnNodes,
    groups,
  };
}

// ---------------------------------------------------------------------------------------------
// Markup

const edgeD = (s, t) => {
  const x1 = s.x + NODE_W;
  const dx = t.x - x1;
  const dy = t.y - s.y;
  const h = dx / 2;
  return `M${x1} ${s.y}c${h} 0 ${h} ${dy} ${dx} ${dy}`;
};
// Ordinary node boxes are pills: a horizontal segment per node stroked with round caps,
// once wide in the kind colour (the border) and once narrower in the tint (the fill).
const PILL = `h${NODE_W - NODE_H}`;
const edgeWidth = (n) => Math.min(7, Math.round((1 + Math.log2(n) * 0.9) * 2) / 2);

function unitMarkup(u, lay, opts) {
  // opts: { attrs: bool (interactive base copy), cls: extra class, tabbable: bool, rootId }
  const top = u.y - NODE_H / 2;
  const kc = kindClass(u.kind);
  if (u.t === T_HEADER) {
    const y = u.y - HDR_H / 2;
    const n = u.bucket.members.length;
    const a = opts.attrs
      ? ` data-h="${esc(u.id)}" tabindex="0" role="button" aria-expanded="true" aria-label="${esc(`Collapse ${n} ${kindName(u.kind, n)} at depth ${u.depth}`)}"`
      : '';
    return `<g class="n hdr ${kc}${opts.cls}"${a}><rect x="${u.x}" y="${y}" width="${NODE_W}" height="${HDR_H}" rx="9"/><text x="${u.x + TEXT_X}" y="${u.y + 4}">▾ ${esc(u.label)}</text></g>`;
  }
  if (u.t === T_GROUP) {
    const n = u.bucket.members.length;
    const a = opts.attrs
      ? ` data-g="${esc(u.id)}" tabindex="0" role="button" aria-expanded="false" aria-label="${esc(`${n} ${kindName(u.kind, n)} at depth ${u.depth}, collapsed`)}"`
      : '';
    return `<g class="n grp ${kc}${opts.cls}"${a}><rect class="stk" x="${u.x + 4}" y="${top - 4}" width="${NODE_W}" height="${NODE_H}" rx="5"/><rect x="${u.x}" y="${top}" width="${NODE_W}" height="${NODE_H}" rx="5"/><text x="${u.x + TEXT_X}" y="${u.y + 4}">${esc(fitText(u.label, LABEL_PX - 14))}</text><text class="aff" x="${u.x + NODE_W - 14}" y="${u.y + 4}">▸</text></g>`;
  }
  let a = '';
  const isRoot = u.id === opts.rootId;
  if (opts.attrs) {
    const tab = opts.tabbable || isRoot ? '0' : '-1';
    a = ` data-id="${esc(u.id)}" tabindex="${tab}" role="link" aria-label="${esc(`${u.kind} ${u.label}, depth ${u.depth}`)}"`;
    // an ordinary node in the base layer: its box is drawn in the batched per-kind path
    if (!isRoot) return `<text x="${u.x + TEXT_X}" y="${u.y + 4}"${a}>${esc(fitText(u.label, LABEL_PX))}</text>`;
  }
  const root = isRoot ? ' root' : '';
  return `<g class="n ${kc}${root}${opts.cls}"${a}><rect x="${u.x}" y="${top}" width="${NODE_W}" height="${NODE_H}" rx="${NODE_H / 2}"/><text x="${u.x + TEXT_X}" y="${u.y + 4}">${esc(fitText(u.label, LABEL_PX))}</text></g>`;
}

// The base SVG: edges, batched boxes, the synchronous node elements (ctl) and `slots`
// empty label slots.
function svgMarkup(lay, rootId, ctl, slots) {
  const out = [];
  // edges batched by stroke width
  const byW = new Map();
  for (const e of lay.edges) {
    const w = edgeWidth(e.n);
    let arr = byW.get(w);
    if (!arr) byW.set(w, (arr = []));
    arr.push(edgeD(e.s, e.t));
  }
  out.push('<g class="map-base"><g class="map-edges">');
  for (const [w, ds] of [...byW].sort((a, b) => a[0] - b[0])) out.push(`<path stroke-width="${w}" d="${ds.join('')}"/>`);
  out.push('</g><g class="map-boxes">');
  const boxes = new Map(); // kind class -> [subpaths]
  for (const u of lay.units) {
    if (u.t !== T_NODE || u.id === rootId) continue;
    const kc = kindClass(u.kind);
    let arr = boxes.get(kc);
    if (!arr) boxes.set(kc, (arr = []));
    arr.push(`M${u.x + NODE_H / 2} ${u.y}${PILL}`);
  }
  for (const [kc, ds] of boxes) {
    const d = ds.join('');
    out.push(`<path class="${kc} bd" d="${d}"/><path class="${kc}" d="${d}"/>`);
  }
  out.push('</g><g class="map-nodes">', ctl, '</g><g class="map-labels">', '<g></g>'.repeat(slots), '</g></g>');
  return out.join('');
}
// Node elements for units[from, to) (labels of ordinary nodes; groups, headers and the root).
function nodesMarkup(lay, units, rootId, from, to) {
  const o = { attrs: true, cls: '', tabbable: lay.units.length <= SYNC_UNITS, rootId };
  let m = '';
  for (let i = from; i < to; i++) m += unitMarkup(units[i], lay, o);
  return m;
}

// ---------------------------------------------------------------------------------------------

export function drawMap(host, graph, opts = {}) {
  const collapseAbove = Number.isFinite(opts.collapseAbove) ? opts.collapseAbove : opts.collapseAbove === Infinity ? Infinity : 12;
  const onOpen = typeof opts.onOpen === 'function' ? opts.onOpen : null;
  const onPath = typeof opts.onPath === 'function' ? opts.onPath : null;
  const describe = typeof opts.describe === 'function' ? opts.describe : null;

  // ---- shell ------------------------------------------------------------------------------
  host.classList.add('map');
  host.replaceChildren();
  const bar = document.createElement('div');
  bar.className = 'map-bar';
  const legend = document.createElement('ul');
  legend.className = 'map-legend';
  legend.setAttribute('aria-label', 'Kinds on the map');
  const tools = document.createElement('div');
  tools.className = 'map-tools';
  tools.setAttribute('role', 'toolbar');
  tools.setAttribute('aria-label', 'Map controls');
  const btn = (act, text, label) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.act = act;
    b.textContent = text;
    b.setAttribute('aria-label', label);
    b.title = label;
    tools.append(b);
    return b;
  };
  btn('in', '+', 'Zoom in');
  btn('out', '−', 'Zoom out');
  btn('fit', 'Fit', 'Fit');
  btn('expand', 'Expand all', 'Expand all');
  btn('collapse', 'Collapse all', 'Collapse all');
  bar.append(legend, tools);

  const vp = document.createElement('div');
  vp.className = 'map-viewport';
  vp.tabIndex = 0;
  vp.setAttribute('role', 'group');
  vp.setAttribute('aria-label', 'Blast radius map');
  vp.setAttribute('aria-roledescription', 'graph');
  const helpId = `map-help-${Math.random().toString(36).slice(2, 9)}`;
  vp.setAttribute('aria-describedby', helpId);
  // world: the one element the view transform is written to. It holds the base <svg> (all
  // nodes and edges; dimmed by a class that sets a compositor-only opacity) and an overlay
  // <svg> with the highlighted path, so hovering never repaints or re-rasters the base.
  const world = document.createElement('div');
  world.className = 'map-world';
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', 'map-svg');
  svg.setAttribute('tabindex', '-1'); // Chromium would otherwise put the <svg> itself in the Tab order
  const over = document.createElementNS(SVG_NS, 'svg');
  over.setAttribute('class', 'map-over');
  over.setAttribute('aria-hidden', 'true');
  over.setAttribute('tabindex', '-1');
  const hl = document.createElementNS(SVG_NS, 'g');
  hl.setAttribute('class', 'map-hl');
  over.append(hl);
  world.append(svg, over);
  const tip = document.createElement('div');
  tip.className = 'map-tip';
  tip.setAttribute('role', 'tooltip');
  tip.hidden = true;
  vp.append(world, tip);

  const help = document.createElement('p');
  help.id = helpId;
  help.className = 'map-sr';
  help.textContent = 'Drag or use the arrow keys to pan, the mouse wheel or + and - to zoom, 0 to fit. '
    + 'Tab to nodes and groups; click or Space pins a node\'s path; Enter or a double click opens it; Enter expands a group; Escape clears the pinned path.';
  const live = document.createElement('div');
  live.className = 'map-sr';
  live.setAttribute('aria-live', 'polite');
  host.append(bar, vp, help, live);

  // ---- state ------------------------------------------------------------------------------
  let model = buildModel(graph);
  let lay = null;
  const expanded = new Set();
  const view = { x: 0, y: 0, k: 1 };
  let autoFit = true; // until the user moves the view, resizes refit
  // Viewport size: from the ResizeObserver (its first callback runs before the first paint
  // and refits), so drawing never forces a synchronous layout.
  let vw = 800;
  let vh = 480;
  let raf = 0;
  let pinId = null; // pinned node id
  let trans = null; // transient target: { t: 'node'|'group'|'header', id }
  let shown = null; // what the overlay currently shows (node id) — to avoid redundant work
  let tipAt = null; // unit the tooltip is anchored to
  let lastPathKey = null;
  let timings = { layoutMs: 0, renderMs: 0, start: 0, completeMs: 0 };
  let pumpRaf = 0; // pending label slot filling
  let labelUnits = []; // units whose labels go into slots
  let slots = [];
  let slotsLeft = 0;
  let nextSlot = 0;
  let lastMove = 0; // last pan/zoom input (label filling backs off meanwhile)
  let destroyed = false;
  let pointerFocus = false; // focus moved by a click: don't pan/zoom to it

  // ---- render -----------------------------------------------------------------------------
  function redraw() {
    // focus inside the SVG is lost with its element: put it back on the same node afterwards
    const ae = document.activeElement;
    const lost = ae && ae !== svg && svg.contains(ae) ? hitOf(ae) : null;
    mark('map:layout-start');
    const t0 = now();
    lay = layoutGraph(model, expanded, collapseAbove);
    const t1 = now();
    mark('map:layout-end');
    if (pumpRaf) cancelAnimationFrame(pumpRaf);
    pumpRaf = 0;
    const rootId = model.rootId;
    let ctlUnits = lay.units;
    labelUnits = [];
    if (lay.units.length > SYNC_UNITS) {
      ctlUnits = [];
      for (const u of lay.units) (u.t === T_NODE && u.id !== rootId ? labelUnits : ctlUnits).push(u);
    }
    slots = [];
    for (let i = 0; i < labelUnits.length; i += SLOT) {
      const to = Math.min(labelUnits.length, i + SLOT);
      const slot = { from: i, to, x0: Infinity, x1: -Infinity, y0: Infinity, y1: -Infinity, el: null, filled: false };
      for (let j = i; j < to; j++) {
        const u = labelUnits[j];
        if (u.x < slot.x0) slot.x0 = u.x;
        if (u.x > slot.x1) slot.x1 = u.x;
        if (u.y < slot.y0) slot.y0 = u.y;
        if (u.y > slot.y1) slot.y1 = u.y;
      }
      slots.push(slot);
    }
    svg.innerHTML = svgMarkup(lay, rootId, nodesMarkup(lay, ctlUnits, rootId, 0, ctlUnits.length), slots.length);
    const slotEls = svg.firstChild.lastChild.children;
    for (let i = 0; i < slots.length; i++) slots[i].el = slotEls[i];
    slotsLeft = slots.length;
    nextSlot = 0;
    if (slotsLeft) pumpRaf = requestAnimationFrame(pump);
    for (const el of [svg, over]) {
      el.setAttribute('width', lay.width);
      el.setAttribute('height', lay.height);
      el.setAttribute('viewBox', `0 0 ${lay.width} ${lay.height}`);
    }
    const t2 = now();
    mark('map:render-end');
    timings = { layoutMs: t1 - t0, renderMs: t2 - t1, start: t0, completeMs: slotsLeft ? -1 : t2 - t0 };
    shown = null;
    if (pinId && !model.recs.has(pinId)) pinId = null;
    if (trans && trans.t === 'node' && !model.recs.has(trans.id)) trans = null;
    if (trans && trans.t !== 'node') trans = null;
    refreshTrace(false);
    if (lost) {
      const el = elFor(lost);
      pointerFocus = true; // no pan/zoom for a restored focus
      (el || vp).focus({ preventScroll: true });
      pointerFocus = false;
    }
  }

  // Fill label slots: visible ones first (when labels are readable), then in order.
  function fillSlot(slot) {
    slot.filled = true;
    slotsLeft--;
    slot.el.innerHTML = nodesMarkup(lay, labelUnits, model.rootId, slot.from, slot.to);
  }
  function pump() {
    pumpRaf = 0;
    if (destroyed || !lay || !slotsLeft) return;
    const busy = now() - lastMove < 250;
    let budget = busy ? 1 : 3;
    if (view.k >= LOD_K) {
      const x0 = -view.x / view.k - NODE_W;
      const x1 = (vw - view.x) / view.k;
      const y0 = -view.y / view.k - ROW_H;
      const y1 = (vh - view.y) / view.k + ROW_H;
      for (let i = 0; i < slots.length && budget > 0; i++) {
        const sl = slots[i];
        if (!sl.filled && sl.x1 >= x0 && sl.x0 <= x1 && sl.y1 >= y0 && sl.y0 <= y1) {
          fillSlot(sl);
          budget--;
        }
      }
    }
    if (!busy) {
      while (budget > 0 && nextSlot < slots.length) {
        const sl = slots[nextSlot++];
        if (!sl.filled) {
          fillSlot(sl);
          budget--;
        }
      }
    }
    if (slotsLeft) pumpRaf = requestAnimationFrame(pump);
    else {
      timings.completeMs = now() - timings.start;
      mark('map:complete');
    }
  }

  function renderLegend() {
    const parts = [];
    const kinds = [...model.kindCounts.keys()].sort((a, b) => (KIND_RANK.has(a) ? KIND_RANK.get(a) : 99) - (KIND_RANK.has(b) ? KIND_RANK.get(b) : 99) || cmp(a, b));
    for (const k of kinds) {
      const n = model.kindCounts.get(k);
      parts.push(`<li class="${kindClass(k)}"><span class="map-sw" aria-hidden="true"></span>${esc(kindName(k, n))} <b>${n}</b></li>`);
    }
    legend.innerHTML = parts.join('');
  }

  // ---- view -------------------------------------------------------------------------------
  function schedule() {
    if (!raf && !destroyed) raf = requestAnimationFrame(apply);
  }
  function apply() {
    raf = 0;
    world.style.transform = `translate(${view.x}px,${view.y}px) scale(${view.k})`;
    if (tipAt) placeTip();
  }
  function clampK(k) {
    return Math.min(MAX_K, Math.max(MIN_K, k));
  }
  function zoomAt(factor, px, py) {
    const k = clampK(view.k * factor);
    const f = k / view.k;
    view.x = px - (px - view.x) * f;
    view.y = py - (py - view.y) * f;
    view.k = k;
    schedule();
  }
  function fit() {
    if (!lay) return;
    autoFit = true; // fitted views follow viewport resizes until the user moves
    // vw/vh are cached (ResizeObserver): reading clientWidth here would force a layout of
    // the freshly written SVG.
    const k = clampK(Math.min(1, (vw - 16) / lay.width, (vh - 16) / lay.height));
    view.k = k;
    view.x = Math.round((vw - lay.width * k) / 2);
    view.y = lay.height * k <= vh ? Math.round((vh - lay.height * k) / 2) : 8;
    schedule();
  }
  function userMoved() {
    autoFit = false;
    lastMove = now();
  }
  // Keep the screen position of `unit` (after a relayout) where `before` was.
  function anchor(before, unit) {
    if (!before || !unit) return;
    view.x += (before.x - unit.x) * view.k;
    view.y += (before.y - unit.y) * view.k;
    schedule();
  }
  // Keyboard focus: bring the node into view, and to a readable scale.
  function ensureVisible(u) {
    const sx = u.x * view.k + view.x;
    const sy = u.y * view.k + view.y;
    const w = NODE_W * view.k;
    const m = 24;
    const readable = view.k >= 0.6;
    if (readable && sx >= m && sx + w <= vw - m && sy >= m && sy <= vh - m) return;
    if (!readable) view.k = 1;
    view.x = Math.round(vw / 2 - (u.x + NODE_W / 2) * view.k);
    view.y = Math.round(vh / 2 - u.y * view.k);
    userMoved();
    schedule();
  }

  // ---- trace (why path) ---------------------------------------------------------------------
  function unitFor(t) {
    if (!t || !lay) return null;
    if (t.t === 'node') return lay.nodeUnit.get(t.id) || null;
    if (t.t === 'group') return lay.groupUnit.get(t.id) || null;
    return lay.headerUnit.get(t.id) || null;
  }
  function pathRecs(id) {
    return id && model.recs.has(id) ? pathTo(model, id) : [];
  }
  function pathText(recs) {
    return recs.map((r, i) => `${r.kind} ${i === recs.length - 1 ? short(r.label, 60) : short(r.label, 28)}`).join(' → ');
  }
  // Redraw overlay + tooltip for the transient target, else the pin. `notify` calls onPath.
  function refreshTrace(notify = true) {
    if (!lay) return;
    const target = trans || (pinId ? { t: 'node', id: pinId } : null);
    const key = target ? `${target.t}:${target.id}` : null;
    if (key === shown && key !== null) return;
    shown = key;
    if (!target) {
      svg.classList.remove('is-tracing');
      hl.textContent = '';
      hideTip();
      if (notify) emitPath(null);
      return;
    }
    const u = unitFor(target);
    if (!u) {
      svg.classList.remove('is-tracing');
      hl.textContent = '';
      hideTip();
      if (notify) emitPath(null);
      return;
    }
    if (target.t !== 'node') {
      // groups and headers: a tooltip, no path (a node's path ended, or the pin's remains)
      if (notify) emitPath(pinId ? pathRecs(pinId) : null);
      svg.classList.remove('is-tracing');
      hl.innerHTML = unitMarkup(u, lay, { attrs: false, cls: ' cur', tabbable: false, rootId: model.rootId });
      const n = u.bucket.members.length;
      const what = `${n} ${kindName(u.kind, n)} at depth ${u.depth}`;
      showTip(u, `<div class="map-tip-h">${esc(what)}</div><div class="map-tip-m">${target.t === 'group' ? 'Collapsed. Click, Enter or Space to expand.' : 'Click, Enter or Space to collapse.'}</div>`);
      return;
    }
    const recs = pathRecs(target.id);
    // map path nodes onto drawn units (collapsed members light up their group)
    const chain = [];
    for (const r of recs) {
      const pu = lay.nodeUnit.get(r.id);
      if (pu && chain[chain.length - 1] !== pu) chain.push(pu);
    }
    const parts = [];
    for (let i = 1; i < chain.length; i++) parts.push(edgeD(chain[i - 1], chain[i]));
    const o = { attrs: false, cls: ' on', tabbable: false, rootId: model.rootId };
    const oc = { attrs: false, cls: ' on cur', tabbable: false, rootId: model.rootId };
    let m = parts.length ? `<path class="hl-edge" d="${parts.join('')}"/>` : '';
    for (let i = 0; i < chain.length; i++) m += unitMarkup(chain[i], lay, i === chain.length - 1 ? oc : o);
    hl.innerHTML = m;
    svg.classList.add('is-tracing');
    const r = model.recs.get(target.id);
    let extra = '';
    if (describe) {
      try {
        const d = describe(r.node);
        if (d != null && d !== '') extra = `<div class="map-tip-d">${esc(d)}</div>`;
      } catch { /* caller's describe failed: no extra text */ }
    }
    const inGroup = u.t === T_GROUP ? `<div class="map-tip-m">Inside the collapsed group “${esc(u.label)}”.</div>` : '';
    showTip(u, `<div class="map-tip-h"><span class="map-sw ${kindClass(r.kind)}" aria-hidden="true"></span>${esc(r.kind)} <b>${esc(r.label)}</b></div>`
      + `<div class="map-tip-m">depth ${r.depth}${pinId === target.id ? ' · pinned' : ''}</div>${extra}${inGroup}`
      + `<div class="map-tip-p">${recs.map((x) => `<span class="${kindClass(x.kind)}">${esc(x.kind)} ${esc(short(x.label, x === r ? 60 : 28))}</span>`).join(' → ')}</div>`);
    if (notify) emitPath(recs);
  }
  function emitPath(recs) {
    if (!onPath) return;
    const key = recs && recs.length ? recs[recs.length - 1].id : '';
    if (key === lastPathKey) return;
    lastPathKey = key;
    try {
      onPath(recs ? recs.map((r) => r.node) : []);
    } catch (e) {
      console.error(e);
    }
  }
  function showTip(u, html) {
    tip.innerHTML = html;
    tip.hidden = false;
    tipAt = u;
    placeTip();
  }
  function hideTip() {
    tipAt = null;
    tip.hidden = true;
  }
  // Placed without measuring the tooltip (percentage translates do the flipping): below the
  // node, or above it in the lower half of the viewport; aligned with the node's left edge,
  // or its right edge on the right side. Never beside the node, where the path runs.
  function placeTip() {
    const u = tipAt;
    const k = view.k;
    const left = u.x * k + view.x;
    const right = (u.x + NODE_W) * k + view.x;
    const top = (u.y - NODE_H / 2 - (u.t === T_GROUP ? 4 : 0)) * k + view.y;
    const bottom = (u.y + NODE_H / 2) * k + view.y;
    const flipX = (left + right) / 2 > vw * 0.6;
    const above = top > vh * 0.55;
    const x = flipX ? Math.min(vw - 4, Math.max(right, 40)) : Math.max(4, Math.min(left, vw - 40));
    const y = above ? Math.min(vh - 4, Math.max(top - 6, 40)) : Math.max(4, Math.min(bottom + 6, vh - 40));
    tip.style.transform = `translate(${Math.round(x)}px,${Math.round(y)}px)${flipX ? ' translateX(-100%)' : ''}${above ? ' translateY(-100%)' : ''}`;
  }
  function setTransient(t) {
    const same = (t === null && trans === null) || (t && trans && t.t === trans.t && t.id === trans.id);
    if (same) return;
    trans = t;
    refreshTrace(true);
  }
  function pin(id) {
    pinId = id;
    shown = null;
    refreshTrace(true);
    const recs = pathRecs(id);
    live.textContent = recs.length ? `Pinned path: ${pathText(recs)}` : '';
  }
  function unpin() {
    if (!pinId) return;
    pinId = null;
    shown = null;
    refreshTrace(true);
    live.textContent = 'Path unpinned.';
  }

  // ---- expand / collapse ------------------------------------------------------------------
  function toggleBucket(key, focusAfter, byPointer) {
    const before = lay.groupUnit.get(key) || lay.headerUnit.get(key);
    const old = before ? { x: before.x, y: before.y } : null;
    if (expanded.has(key)) expanded.delete(key);
    else expanded.add(key);
    trans = null;
    redraw();
    const after = lay.groupUnit.get(key) || lay.headerUnit.get(key);
    anchor(old, after);
    if (after) {
      const b = after.bucket;
      const n = b.members.length;
      live.textContent = `${expanded.has(key) ? 'Expanded' : 'Collapsed'} ${n} ${kindName(b.kind, n)} at depth ${b.depth}.`;
    }
    if (focusAfter && after) {
      const sel = after.t === T_GROUP ? `[data-g="${CSS.escape(key)}"]` : `[data-h="${CSS.escape(key)}"]`;
      const el = svg.querySelector(sel);
      if (el) {
        pointerFocus = !!byPointer;
        el.focus({ preventScroll: true });
        pointerFocus = false;
      }
    }
  }
  function bulk(expand) {
    const focusTarget = pinId ? lay.nodeUnit.get(pinId) : model.rootId ? lay.nodeUnit.get(model.rootId) : null;
    const old = focusTarget ? { x: focusTarget.x, y: focusTarget.y } : null;
    expanded.clear();
    if (expand) for (const b of model.buckets.values()) if (b.depth > 0 && b.members.length > collapseAbove) expanded.add(b.key);
    trans = null;
    redraw();
    const id = pinId || model.rootId;
    if (id) anchor(old, lay.nodeUnit.get(id));
    if (autoFit) fit();
  }

  // ---- events (delegated) -----------------------------------------------------------------
  function hitOf(el) {
    const g = el && el.closest ? el.closest('[data-id],[data-g],[data-h]') : null;
    if (!g || !svg.contains(g)) return null;
    if (g.hasAttribute('data-id')) return { t: 'node', id: g.getAttribute('data-id'), el: g };
    if (g.hasAttribute('data-g')) return { t: 'group', id: g.getAttribute('data-g'), el: g };
    return { t: 'header', id: g.getAttribute('data-h'), el: g };
  }
  function activate(hit, viaKey) {
    if (!hit) return;
    if (hit.t === 'group' || hit.t === 'header') {
      toggleBucket(hit.id, true, viaKey === 'click');
      return;
    }
    const el = hit.el || elFor(hit);
    if (el && document.activeElement !== el) {
      pointerFocus = viaKey === 'click';
      el.focus({ preventScroll: true });
      pointerFocus = false;
    }
    trans = null;
    pin(hit.id);
    // A click pins the why-path (the caller shows it, with links); opening the node's own
    // page is Enter or a double click, so reading a path never navigates away by accident.
    if (onOpen && (viaKey === 'enter' || viaKey === 'dblclick')) {
      const r = model.recs.get(hit.id);
      if (r) onOpen(r.node);
    }
  }

  // The node under a viewport point, by geometry: ordinary nodes are a <text> over a
  // batched box path, so the pointer is resolved against the layout (column, then a binary
  // search on y) instead of per-node hit elements.
  let rect = null; // cached viewport client rect (invalidated by scroll/resize)
  const vpRect = () => {
    if (!rect) {
      const r = vp.getBoundingClientRect();
      rect = { left: r.left + vp.clientLeft, top: r.top + vp.clientTop }; // inside the border
    }
    return rect;
  };
  const dropRect = () => { rect = null; };
  function hitAt(clientX, clientY) {
    if (!lay) return null;
    const r = vpRect();
    const wx = (clientX - r.left - view.x) / view.k;
    const wy = (clientY - r.top - view.y) / view.k;
    const d = Math.round((wx - PAD - NODE_W / 2) / COL_W);
    const col = lay.byDepth.get(d);
    if (!col) return null;
    const x0 = PAD + d * COL_W;
    if (wx < x0 || wx > x0 + NODE_W + 4) return null;
    let lo = 0;
    let hi = col.length - 1;
    while (lo < hi) {
      const m = (lo + hi + 1) >> 1;
      if (col[m].y - ROW_H / 2 <= wy) lo = m;
      else hi = m - 1;
    }
    for (let i = lo; i <= lo + 1 && i < col.length; i++) {
      const u = col[i];
      const half = u.t === T_HEADER ? HDR_H / 2 : NODE_H / 2;
      if (wy >= u.y - half - (u.t === T_GROUP ? 4 : 0) && wy <= u.y + half) {
        return { t: u.t === T_NODE ? 'node' : u.t === T_GROUP ? 'group' : 'header', id: u.id, el: null };
      }
    }
    return null;
  }
  function elFor(h) {
    const attr = h.t === 'node' ? 'data-id' : h.t === 'group' ? 'data-g' : 'data-h';
    return svg.querySelector(`[${attr}="${CSS.escape(h.id)}"]`);
  }

  let drag = null;

  const on = [];
  const listen = (el, type, fn, o) => {
    el.addEventListener(type, fn, o);
    on.push([el, type, fn, o]);
  };

  listen(vp, 'pointerdown', (e) => {
    if (e.button !== 0 || !e.isPrimary || (e.target && tip.contains(e.target))) return;
    e.preventDefault(); // no text selection, no native focus: we focus explicitly
    drag = { id: e.pointerId, sx: e.clientX, sy: e.clientY, vx: view.x, vy: view.y, moved: false, hit: hitAt(e.clientX, e.clientY) };
  });
  listen(vp, 'pointermove', (e) => {
    if (!drag) {
      hover(e);
      return;
    }
    if (e.pointerId !== drag.id) return;
    const dx = e.clientX - drag.sx;
    const dy = e.clientY - drag.sy;
    if (!drag.moved) {
      if (dx * dx + dy * dy < CLICK_SLOP2) return;
      drag.moved = true;
      try { vp.setPointerCapture(e.pointerId); } catch { /* pointer already gone */ }
      vp.classList.add('is-dragging');
      userMoved();
    }
    view.x = drag.vx + dx;
    view.y = drag.vy + dy;
    lastMove = now();
    schedule();
  });
  const endDrag = (e, click) => {
    if (!drag || e.pointerId !== drag.id) return;
    const d = drag;
    drag = null;
    vp.classList.remove('is-dragging');
    try { if (vp.hasPointerCapture(e.pointerId)) vp.releasePointerCapture(e.pointerId); } catch { /* ignore */ }
    if (!click || d.moved) return;
    if (d.hit) activate(d.hit, 'click');
    else {
      if (document.activeElement !== vp) vp.focus({ preventScroll: true });
      trans = null;
      if (pinId) unpin();
      else refreshTrace(true);
    }
  };
  listen(vp, 'pointerup', (e) => endDrag(e, true));
  listen(vp, 'dblclick', (e) => {
    const hit = hitAt(e.clientX, e.clientY);
    if (hit && hit.t === 'node') activate(hit, 'dblclick');
  });
  listen(vp, 'pointercancel', (e) => endDrag(e, false));

  listen(vp, 'wheel', (e) => {
    e.preventDefault();
    let dy = e.deltaY;
    if (e.deltaMode === 1) dy *= 16;
    else if (e.deltaMode === 2) dy *= vh;
    const f = Math.exp(-dy * (e.ctrlKey ? 0.01 : 0.0015));
    const r = vpRect();
    userMoved();
    zoomAt(f, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });

  let hovering = false;
  function hover(e) {
    if (e.pointerType === 'touch') return;
    const h = e.target && tip.contains(e.target) ? null : hitAt(e.clientX, e.clientY);
    vp.classList.toggle('is-hot', !!h);
    if (h) {
      hovering = true;
      setTransient({ t: h.t, id: h.id });
    } else if (hovering) {
      // back on empty space: fall back to the focused node, if any, else the pin
      hovering = false;
      const f = hitOf(document.activeElement);
      setTransient(f ? { t: f.t, id: f.id } : null);
    }
  }
  listen(vp, 'pointerleave', () => {
    vp.classList.remove('is-hot');
    if (!hovering || drag) return;
    hovering = false;
    const f = hitOf(document.activeElement);
    setTransient(f ? { t: f.t, id: f.id } : null);
  });
  listen(window, 'scroll', dropRect, { capture: true, passive: true });
  listen(window, 'resize', dropRect, { passive: true });
  listen(svg, 'focusin', (e) => {
    const h = hitOf(e.target);
    if (!h) return;
    const u = unitFor(h);
    if (u && !pointerFocus) ensureVisible(u);
    setTransient({ t: h.t, id: h.id });
  });
  listen(svg, 'focusout', (e) => {
    const to = hitOf(e.relatedTarget);
    if (!to) setTransient(null);
  });

  listen(vp, 'keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const h = hitOf(e.target);
    const step = e.shiftKey ? 240 : 60;
    switch (e.key) {
      case 'Enter':
        if (h) { e.preventDefault(); activate(h, 'enter'); }
        return;
      case ' ':
      case 'Spacebar':
        if (h) {
          e.preventDefault();
          if (h.t === 'node') {
            if (pinId === h.id) unpin();
            else { trans = null; pin(h.id); }
          } else activate(h, 'space');
        }
        return;
      case 'Escape': // handled on the host (also from the toolbar)
        return;
      case 'ArrowLeft': view.x += step; break;
      case 'ArrowRight': view.x -= step; break;
      case 'ArrowUp': view.y += step; break;
      case 'ArrowDown': view.y -= step; break;
      case '+':
      case '=':
        zoomAt(1.25, vw / 2, vh / 2);
        break;
      case '-':
      case '_':
        zoomAt(1 / 1.25, vw / 2, vh / 2);
        break;
      case '0':
        e.preventDefault();
        fit();
        return;
      default:
        return;
    }
    e.preventDefault();
    userMoved();
    schedule();
  });

  listen(host, 'keydown', (e) => {
    if (e.key === 'Escape' && pinId) {
      e.preventDefault();
      unpin();
    }
  });

  listen(tools, 'click', (e) => {
    const b = e.target.closest('button[data-act]');
    if (!b) return;
    switch (b.dataset.act) {
      case 'in': userMoved(); zoomAt(1.25, vw / 2, vh / 2); break;
      case 'out': userMoved(); zoomAt(1 / 1.25, vw / 2, vh / 2); break;
      case 'fit': fit(); break;
      case 'expand': bulk(true); break;
      case 'collapse': bulk(false); break;
      default:
    }
  });

  let ro = null;
  if (typeof ResizeObserver !== 'function') {
    vw = vp.clientWidth || vw;
    vh = vp.clientHeight || vh;
  } else {
    ro = new ResizeObserver(() => {
      rect = null;
      const w = vp.clientWidth;
      const h = vp.clientHeight;
      if (!w || !h || (w === vw && h === vh)) return;
      vw = w;
      vh = h;
      if (autoFit) {
        fit();
        // we are between layout and paint: write now so the first frame is already fitted
        if (raf) cancelAnimationFrame(raf);
        apply();
      }
    });
    ro.observe(vp);
  }

  // ---- first draw -------------------------------------------------------------------------
  setMeasureFont(FONT);
  renderLegend();
  redraw();
  fit();

  return {
    expandAll() { bulk(true); },
    collapseAll() { bulk(false); },
    fit() { fit(); },
    zoomBy(factor) {
      const f = Number(factor);
      if (!(f > 0)) return;
      userMoved();
      zoomAt(f, vw / 2, vh / 2);
    },
    panBy(dx, dy) {
      view.x += Number(dx) || 0;
      view.y += Number(dy) || 0;
      userMoved();
      schedule();
    },
    update(next) {
      model = buildModel(next); // expand state is kept by bucket key ("depth:kind")
      renderLegend();
      redraw();
    },
    stats() {
      return {
        nodes: model.recs.size,
        drawnNodes: lay ? lay.drawnNodes : 0,
        edges: lay ? lay.edges.length : 0,
        groups: lay ? lay.groups : 0,
        layoutMs: Math.round(timings.layoutMs * 100) / 100,
        renderMs: Math.round(timings.renderMs * 100) / 100,
        // extra: ms from layout start until every node element was inserted (-1: pending)
        completeMs: Math.round(timings.completeMs * 100) / 100,
      };
    },
    destroy() {
      destroyed = true;
      if (raf) cancelAnimationFrame(raf);
      if (pumpRaf) cancelAnimationFrame(pumpRaf);
      raf = 0;
      if (ro) ro.disconnect();
      for (const [el, type, fn, o] of on) el.removeEventListener(type, fn, o);
      on.length = 0;
      host.replaceChildren();
      host.classList.remove('map');
    },
  };
}
