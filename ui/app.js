// Placeholder dashboard: lists components through the same GraphQL API dashboards use.
const list = document.getElementById('components');
const query = '{ components(first: 50) { edges { node { name latestVersion owner { name } } } } }';
fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })
  .then((r) => r.json())
  .then((r) => {
    const edges = r.data ? r.data.components.edges : [];
    list.replaceChildren(...(edges.length ? edges.map(({ node }) => {
      const li = document.createElement('li');
      li.innerHTML = '<code></code> ';
      li.firstChild.textContent = node.name;
      li.append(`${node.latestVersion ?? 'no version'} · owner: ${node.owner ? node.owner.name : 'none'}`);
      return li;
    }) : [Object.assign(document.createElement('li'), { textContent: 'no components yet' })]));
  })
  .catch((e) => { list.textContent = `GraphQL request failed: ${e}`; });
