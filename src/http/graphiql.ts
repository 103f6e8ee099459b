import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphiQLOptions } from 'graphql-yoga';

/**
 * GraphiQL served by the server itself, for development (never in production).
 *
 * Yoga's default GraphiQL loads its scripts, styles and editor workers from a
 * public CDN: a blank page on a machine without internet, and refused by a
 * strict CSP. Here every asset comes from @graphql-yoga/render-graphiql's
 * bundle, served from our own origin as separate files (no inline script, so
 * the CSP needs no 'unsafe-inline' for scripts), editor workers included.
 * Subscriptions go over graphql-ws on the same origin.
 */

const VERSION: string = createRequire(import.meta.url)('@graphql-yoga/render-graphiql/package.json').version;
/** The bundle's version is in the path: the files under it never change, so they are cached for good. */
export const GRAPHIQL_ASSETS = `/graphiql/${VERSION}/`;

const EXAMPLE_SELECTION = `{
    seq
    updatedAt
    entries {
      rank
      score
      player {
        id
        username
      }
    }
  }`;

/**
 * The first tab: what a new user wants to try. Run Top10 for the board now,
 * LiveTop10 to watch it change (over WebSocket), then credit an action.
 */
export const EXAMPLE_DOCUMENT = `# Welcome to Scoreboard. Put the cursor in an operation and press Run (Ctrl-Enter).
# Top10: the board now. LiveTop10: the live board over WebSocket (the current
# board at once, then a new one, with a higher seq, whenever it changes).
# Acting as a player: see the next tab.

query Top10 {
  leaderboard(first: 10) ${EXAMPLE_SELECTION}
  actionTypes {
    code
    points
    minSeconds
  }
}

subscription LiveTop10 {
  leaderboardChanged(first: 10) ${EXAMPLE_SELECTION}
}
`;

const ACTION_EXAMPLE = `# Needs a player JWT in Headers: {"Authorization": "Bearer <token>"}
# (\`npm run token -- alice\` prints one outside production).
mutation IssueTicket {
  issueActionToken(actionType: "COMPLETE_TASK") {
    actionId
    actionType
    token
    expiresAt
  }
}

# Paste the ticket into Variables as {"input": {"actionId": ..., "actionType": ..., "token": ...}}
mutation Submit($input: SubmitActionInput!) {
  submitAction(input: $input) {
    scoreDelta
    newScore
    rank
    seq
    replayed
  }
}
`;

const OPTIONS: GraphiQLOptions = {
  title: 'Scoreboard GraphiQL',
  endpoint: '/graphql',
  subscriptionsProtocol: 'WS',
  defaultQuery: EXAMPLE_DOCUMENT,
  defaultTabs: [{ query: EXAMPLE_DOCUMENT }, { query: ACTION_EXAMPLE }],
};

/**
 * What the page may load: scripts, styles, workers and icons from our origin,
 * requests (HTTP and WebSocket) to our origin. The editor (Monaco) sets styles
 * at run time, hence 'unsafe-inline' for styles only.
 */
export const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

type Bundle = typeof import('@graphql-yoga/render-graphiql/graphiql');

interface Asset {
  type: string;
  body: Buffer;
}

/** Bootstraps the bundle: editor workers from our origin, then GraphiQL with the options in the page. */
const SETUP_JS = `'use strict';
(function () {
  var base = ${JSON.stringify(GRAPHIQL_ASSETS)};
  var workers = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' };
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (moduleId, label) { return base + (workers[label] || workers.editorWorkerService); },
  };
  window.addEventListener('DOMContentLoaded', function () {
    var options = JSON.parse(document.getElementById('graphiql-options').textContent);
    YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
  });
})();
`;

function page(): string {
  // Inside a JSON <script> block only "<" could end it early.
  const options = JSON.stringify(OPTIONS).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${OPTIONS.title}</title>
    <link rel="icon" href="${GRAPHIQL_ASSETS}favicon.ico" />
    <link rel="stylesheet" href="${GRAPHIQL_ASSETS}graphiql.css" />
    <script type="application/json" id="graphiql-options">${options}</script>
    <script src="${GRAPHIQL_ASSETS}setup.js"></script>
    <script src="${GRAPHIQL_ASSETS}graphiql.js"></script>
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run GraphiQL.</noscript>
    <div id="root"></div>
  </body>
</html>
`;
}

function assets(bundle: Bundle): Map<string, Asset> {
  const js = 'text/javascript; charset=utf-8';
  const favicon = /^data:([^;]+);base64,(.*)$/.exec(bundle.favicon);
  const files = new Map<string, Asset>([
    ['setup.js', { type: js, body: Buffer.from(SETUP_JS) }],
    ['graphiql.js', { type: js, body: Buffer.from(bundle.js) }],
    ['graphiql.css', { type: 'text/css; charset=utf-8', body: Buffer.from(bundle.css) }],
    ['editor.worker.js', { type: js, body: Buffer.from(bundle.editorWorkerService) }],
    ['json.worker.js', { type: js, body: Buffer.from(bundle.jsonWorker) }],
    ['graphql.worker.js', { type: js, body: Buffer.from(bundle.graphqlWorker) }],
  ]);
  if (favicon) files.set('favicon.ico', { type: favicon[1]!, body: Buffer.from(favicon[2]!, 'base64') });
  return files;
}

export type GraphiQLHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * Answers `GET /graphql` from a browser (Accept: text/html) with the page, and
 * the assets under GRAPHIQL_ASSETS; returns false for anything else. The
 * bundle (about 9 MB) is loaded on first use, so a server nobody opens
 * GraphiQL on never holds it.
 */
export function graphiqlHandler(): GraphiQLHandler {
  let files: Promise<Map<string, Asset>> | undefined;
  const load = () => (files ??= import('@graphql-yoga/render-graphiql/graphiql').then(assets));

  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/graphql') {
      if (!req.headers.accept?.includes('text/html')) return false;
      const body = Buffer.from(page());
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': String(body.length),
        'cache-control': 'no-cache',
        'content-security-policy': GRAPHIQL_CSP,
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    }
    if (!path.startsWith(GRAPHIQL_ASSETS)) return false;
    const asset = (await load()).get(path.slice(GRAPHIQL_ASSETS.length));
    if (!asset) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      res.end('Not found\n');
      return true;
    }
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': String(asset.body.length),
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  };
}
