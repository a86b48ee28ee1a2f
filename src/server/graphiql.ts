import { createRequire } from 'node:module';
import path from 'node:path';
import { Router, type Response } from 'express';
import { REPO_ROOT } from '../platform/config.js';
import { readExamples } from './examples.js';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));

/** The UI's files, served from the installed packages: nothing is fetched from a CDN, so it works offline. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'react.js': { file: path.join(packageDir('react'), 'umd', 'react.production.min.js'), type: 'text/javascript' },
  'react-dom.js': {
    file: path.join(packageDir('react-dom'), 'umd', 'react-dom.production.min.js'),
    type: 'text/javascript',
  },
  'graphiql.js': { file: path.join(packageDir('graphiql'), 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.css': { file: path.join(packageDir('graphiql'), 'graphiql.min.css'), type: 'text/css' },
  'start.js': { file: path.join(REPO_ROOT, 'src', 'server', 'graphiql-start.js'), type: 'text/javascript' },
};

// Only this origin: proves that the page needs nothing from the network, and keeps injected scripts out.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'";

/**
 * GraphiQL at `GET /graphql` for browsers (a request that accepts HTML and carries no query), with the
 * schema docs, history, and every operation of `examples/` preloaded as a tab with its variables.
 */
export function graphiqlRoutes(examplesDir = path.join(REPO_ROOT, 'examples')): Router {
  const tabs = readExamples(examplesDir).map((e) => ({ query: e.query, variables: e.variables }));
  // JSON inside a <script> block: escaping '<' keeps an example's text from closing the block.
  const config = JSON.stringify({ tabs }).replace(/</g, '\\u003c');
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fin-intel-gateway · GraphiQL</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/graphiql/assets/graphiql.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script type="application/json" id="graphiql-config">${config}</script>
<script src="/graphiql/assets/react.js"></script>
<script src="/graphiql/assets/react-dom.js"></script>
<script src="/graphiql/assets/graphiql.js"></script>
<script src="/graphiql/assets/start.js"></script>
</body>
</html>
`;
  const router = Router();
  router.get('/graphql', (req, res, next) => {
    if (req.query.query !== undefined || req.accepts(['application/json', 'text/html']) !== 'text/html') {
      next();
      return;
    }
    secure(res).type('html').setHeader('cache-control', 'no-cache').send(page);
  });
  // The tab's icon: a small inline SVG (browsers ask for /favicon.ico when a page names none).
  router.get(['/favicon.svg', '/favicon.ico'], (_req, res) => {
    res.type('image/svg+xml').setHeader('cache-control', 'public, max-age=86400').send(FAVICON);
  });
  router.get('/graphiql/assets/:name', (req, res, next) => {
    const asset = ASSETS[req.params.name];
    if (!asset) {
      next();
      return;
    }
    secure(res).type(asset.type).sendFile(asset.file, { maxAge: '1h' });
  });
  return router;
}

const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b3d91"/>' +
  '<path d="M6 24l7-8 5 5 8-11" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>';

function secure(res: Response): Response {
  return res
    .setHeader('content-security-policy', CSP)
    .setHeader('x-content-type-options', 'nosniff')
    .setHeader('referrer-policy', 'no-referrer');
}
