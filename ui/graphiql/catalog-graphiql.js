// The catalog's GraphiQL page: a token box (localStorage "catalog.token") and a fetcher that
// POSTs to /graphql. A file of its own, not an inline script, so the page's
// Content-Security-Policy can say script-src 'self' and nothing more.
(function () {
  'use strict';

  var ENDPOINT = '/graphql';
  var TOKEN_KEY = 'catalog.token';
  var DEFAULT_QUERY = [
    '{',
    '  components(first: 10) {',
    '    edges {',
    '      node {',
    '        name',
    '        owner {',
    '          name',
    '        }',
    '        latestVersion',
    '      }',
    '    }',
    '  }',
    '}',
    ''
  ].join('\n');

  // ---- token handling (localStorage key "catalog.token") ----------------
  function getToken() {
    try {
      return (window.localStorage.getItem(TOKEN_KEY) || '').trim();
    } catch (e) {
      return '';
    }
  }
  function setToken(value) {
    // Accept a pasted "Bearer xyz" as well as a bare "xyz".
    var v = (value || '').trim().replace(/^bearer\s+/i, '');
    try {
      if (v) {
        window.localStorage.setItem(TOKEN_KEY, v);
      } else {
        window.localStorage.removeItem(TOKEN_KEY);
      }
    } catch (e) { /* storage unavailable: nothing to persist */ }
  }

  var input = document.getElementById('token-input');
  var status = document.getElementById('token-status');
  function refreshTokenUi() {
    var t = getToken();
    input.value = t;
    status.textContent = t ? 'token set' : 'no token';
  }
  // Save = form submit (button click or Enter in the input).
  document.getElementById('token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    setToken(input.value);
    refreshTokenUi();
  });
  document.getElementById('token-clear').addEventListener('click', function () {
    setToken('');
    refreshTokenUi();
  });
  // Keep in sync if the token is changed in another tab.
  window.addEventListener('storage', function (ev) {
    if (ev.key === TOKEN_KEY || ev.key === null) refreshTokenUi();
  });
  refreshTokenUi();

  // ---- fetcher: POST JSON to /graphql -----------------------------------
  // The token is read on every request, so Save/Clear take effect at once.
  // Headers typed into GraphiQL's own "Headers" tab are merged on top.
  function fetcher(graphQLParams, opts) {
    var headers = {
      'Content-Type': 'application/json',
      'Accept': 'application/json'
    };
    var token = getToken();
    if (token) headers['Authorization'] = 'Bearer ' + token;
    var extra = (opts && opts.headers) || {};
    Object.keys(extra).forEach(function (k) { headers[k] = extra[k]; });

    return window.fetch(ENDPOINT, {
      method: 'POST',
      headers: headers,
      body: JSON.stringify(graphQLParams),
      credentials: 'same-origin'
    }).then(function (res) {
      return res.text().then(function (text) {
        try {
          return JSON.parse(text);
        } catch (e) {
          return {
            errors: [{ message: 'HTTP ' + res.status + ' ' + res.statusText +
                                ' (non-JSON response): ' + text.slice(0, 500) }]
          };
        }
      });
    });
  }

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultEditorToolsVisibility: false
    })
  );
})();
