import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type GenerateKeyPairResult } from 'jose';
import { hashApiKey, SCOPES, type Scope } from '../../src/platform/api-keys.js';
import { loadConfig } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import { ModelsDocument, SentimentDocument } from '../generated/graphql.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';
import { freePort } from '../support/redis-server.js';

const KEYS = [
  { name: 'newsroom', key: 'newsroom-key-0123456789abcdef', scopes: ['sentiment:read'] },
  { name: 'ops', key: 'ops-key-0123456789abcdef0123', scopes: ['admin'] },
];

describe('API keys, scopes and rate limits over HTTP', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({
      MODELS: 'sentiment-bert',
      API_KEYS: JSON.stringify(KEYS.map(({ name, key, scopes }) => ({ name, sha256: hashApiKey(key), scopes }))),
      MAX_QUERY_COMPLEXITY: '100',
      RATE_LIMIT_BURST: '100',
      RATE_LIMIT_PER_SECOND: '10',
    });
  });
  after(() => gw.stop());

  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  it('without a key, or with an unknown one: UNAUTHENTICATED', async () => {
    assert.deepEqual(codes(await gql(gw.url, SentimentDocument, { texts: ['x'] })), ['UNAUTHENTICATED']);
    const wrong = await gql(gw.url, SentimentDocument, { texts: ['x'] }, bearer('not-a-key'));
    assert.deepEqual(codes(wrong), ['UNAUTHENTICATED']);
    assert.match(wrong.body.errors![0]!.message, /Authorization: Bearer <key> or x-api-key/);
  });

  it('a key with the scope gets its answer (Bearer or x-api-key); without the scope: FORBIDDEN', async () => {
    const ok = await gql(gw.url, SentimentDocument, { texts: ['Stocks rally'] }, bearer(KEYS[0]!.key));
    assert.equal(ok.body.data!.sentiment.length, 1);
    const viaHeader = await gql(gw.url, SentimentDocument, { texts: ['Stocks rally'] }, { 'x-api-key': KEYS[0]!.key });
    assert.equal(viaHeader.body.data!.sentiment.length, 1);
    const forbidden = await gql(
      gw.url,
      '{ creditAssessments(accounts: []) { score } }',
      undefined,
      bearer(KEYS[0]!.key),
    );
    assert.deepEqual(codes(forbidden), ['FORBIDDEN']);
    assert.match(forbidden.body.errors![0]!.message, /API key newsroom lacks the scope credit:assess/);
    const shadow = await gql(
      gw.url,
      'mutation { setShadowModelVersion(name: "sentiment-bert", version: null) { version } }',
      undefined,
      bearer(KEYS[0]!.key),
    );
    assert.deepEqual(codes(shadow), ['FORBIDDEN']);
    assert.match(shadow.body.errors![0]!.message, /lacks the scope admin/);
    const admin = await gql(gw.url, ModelsDocument, {}, bearer(KEYS[1]!.key));
    assert.equal(admin.body.data!.models[0]!.name, 'sentiment-bert');
  });

  it('a caller past its budget gets RATE_LIMITED with HTTP 429 and a retry hint; others are unaffected', async () => {
    // Each text costs 10 units: 9 texts (~95 units with the fields) empty the newsroom's 100-unit bucket.
    const nine = new Array(9).fill('Oil prices climb');
    await gql(gw.url, SentimentDocument, { texts: nine }, bearer(KEYS[0]!.key));
    const limited = await gql(gw.url, SentimentDocument, { texts: nine }, bearer(KEYS[0]!.key));
    assert.deepEqual(codes(limited), ['RATE_LIMITED']);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.ok((limited.body.errors![0]!.extensions!.retryAfterSeconds as number) >= 1);
    const other = await gql(gw.url, SentimentDocument, { texts: ['Gold steady'] }, bearer(KEYS[1]!.key));
    assert.equal(other.body.data!.sentiment.length, 1);
  });
});

describe('open by default, but not for admin, the audit trail or the unwary', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({ MODELS: 'sentiment-bert', CORS_ORIGINS: 'https://app.example.com' });
  });
  after(() => gw.stop());

  it('with no API keys, reading fields are open; admin mutations and creditDecisions are FORBIDDEN naming the setting', async () => {
    assert.equal((await gql(gw.url, SentimentDocument, { texts: ['Stocks rally'] })).body.data!.sentiment.length, 1);
    for (const query of [
      'mutation { activateModelVersion(name: "sentiment-bert", version: "1.0.0") { version } }',
      'mutation { setShadowModelVersion(name: "sentiment-bert", version: null) { version } }',
      '{ creditDecisions(limit: 1) { accountId } }',
    ]) {
      const res = await gql(gw.url, query);
      assert.deepEqual(codes(res), ['FORBIDDEN'], query);
      assert.match(res.body.errors![0]!.message, /configure API_KEYS, or set ALLOW_OPEN_ADMIN=true/);
    }
  });

  it('CORS: the configured origin may call from a browser, others get no CORS headers; CSRF prevention still holds', async () => {
    const preflight = (origin: string) =>
      fetch(gw.url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const allowed = await preflight('https://app.example.com');
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal((await preflight('https://evil.example.net')).headers.get('access-control-allow-origin'), null);
    const simple = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'https://app.example.com' },
      body: '{"query":"{ __typename }"}',
    });
    assert.equal(simple.status, 400, 'a simple (non-preflighted) request is still refused');
  });
});

describe('INTROSPECTION=false and LANDING_PAGE=sandbox', () => {
  it('without introspection there is no UI and __schema is refused; Sandbox loads from Apollo without telemetry', async () => {
    const closed = await startTestGateway({ MODELS: 'sentiment-bert', INTROSPECTION: 'false' });
    try {
      const res = await gql(closed.url, '{ __schema { types { name } } }');
      assert.deepEqual(codes(res), ['GRAPHQL_VALIDATION_FAILED']);
      assert.match(res.body.errors![0]!.message, /introspection is turned off on this gateway \(INTROSPECTION=false\)/);
      const sdl = await gql(closed.url, '{ _service { sdl } }');
      assert.deepEqual(codes(sdl), ['GRAPHQL_VALIDATION_FAILED'], 'nor the subgraph SDL');
      const page = await fetch(closed.url, { headers: { accept: 'text/html' } });
      assert.doesNotMatch(await page.text(), /GraphiQL/);
    } finally {
      await closed.stop();
    }
    assert.throws(
      () => loadConfig({ INTROSPECTION: 'false', LANDING_PAGE: 'graphiql' }),
      /LANDING_PAGE=graphiql needs INTROSPECTION=true/,
    );
    const sandbox = await startTestGateway({ MODELS: 'sentiment-bert', LANDING_PAGE: 'sandbox' });
    try {
      const html = await (await fetch(sandbox.url, { headers: { accept: 'text/html' } })).text();
      assert.match(html, /embeddable-sandbox/);
      assert.match(html, /"runTelemetry":false/);
    } finally {
      await sandbox.stop();
    }
  });
});

describe('TRUST_PROXY_HOPS behind a balancer', () => {
  it("anonymous callers are limited by their X-Forwarded-For address, not the proxy's", async () => {
    const gw = await startTestGateway({
      MODELS: 'sentiment-bert',
      TRUST_PROXY_HOPS: '1',
      RATE_LIMIT_PER_SECOND: '1',
      RATE_LIMIT_BURST: '100',
      MAX_QUERY_COMPLEXITY: '100',
    });
    try {
      const from = (ip: string) =>
        gql(gw.url, SentimentDocument, { texts: new Array(8).fill('Stocks rally') }, { 'x-forwarded-for': ip });
      assert.equal((await from('203.0.113.7')).status, 200);
      assert.equal((await from('203.0.113.7')).status, 429, 'the first client has spent its budget');
      assert.equal((await from('198.51.100.9')).status, 200, 'another client behind the same proxy has its own');
    } finally {
      await gw.stop();
    }
  });
});

describe('bearer JWTs (OIDC) beside API keys: the auth matrix', () => {
  const ISSUER = 'https://idp.example.com/realms/bank';
  const AUDIENCE = 'fin-intel';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jwt-access-'));
  let rsa: GenerateKeyPairResult;
  let ec: GenerateKeyPairResult;
  let rogue: GenerateKeyPairResult;
  let fileGw: Gateway;
  let urlGw: Gateway;
  let jwksServer: http.Server;
  let jwksPort: number;
  const ROLE_OF: Record<Scope, string> = {
    'sentiment:read': 'fin-sentiment',
    'credit:assess': 'fin-credit',
    'forecast:read': 'fin-forecast',
    'audit:read': 'fin-audit',
    explore: 'fin-explore',
    admin: 'fin-admin',
  };

  before(async () => {
    [rsa, ec, rogue] = await Promise.all([
      generateKeyPair('RS256'),
      generateKeyPair('ES256'),
      generateKeyPair('RS256'),
    ]);
    const jwksFile = path.join(dir, 'jwks.json');
    writeFileSync(
      jwksFile,
      JSON.stringify({ keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' }] }),
    );
    const remoteSet = JSON.stringify({
      keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' }],
    });
    // The issuer's JWKS endpoint, not listening yet: the URL gateway's first token finds it down.
    jwksPort = await freePort();
    jwksServer = http.createServer((req, res) => {
      if (req.url !== '/protocol/openid-connect/certs') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(remoteSet);
    });
    const jwt = { JWT_ISSUER: ISSUER, JWT_AUDIENCE: `other-app,${AUDIENCE}` };
    [fileGw, urlGw] = await Promise.all([
      startTestGateway({
        MODELS: 'sentiment-bert',
        ...jwt,
        JWT_JWKS: jwksFile,
        API_KEYS: JSON.stringify([{ name: 'newsroom', sha256: hashApiKey(KEYS[0]!.key), scopes: ['sentiment:read'] }]),
      }),
      // Keycloak's shape: roles in realm_access.roles, mapped to the gateway's scopes; no API keys, and not open.
      startTestGateway({
        MODELS: 'sentiment-bert',
        ...jwt,
        JWT_JWKS: `http://127.0.0.1:${jwksPort}/protocol/openid-connect/certs`,
        JWT_ALGORITHMS: 'ES256',
        JWT_SCOPES_CLAIM: 'realm_access.roles',
        JWT_SCOPE_MAP: JSON.stringify({
          ...Object.fromEntries(SCOPES.map((s) => [ROLE_OF[s], [s]])),
          analyst: ['sentiment:read', 'forecast:read'],
        }),
      }),
    ]);
  });
  after(async () => {
    await Promise.all([fileGw.stop(), urlGw.stop()]);
    jwksServer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const now = () => Math.floor(Date.now() / 1000);
  /** A token signed with `key` (RS256 file key by default), valid for 10 minutes unless `claims` say otherwise. */
  const token = (
    claims: Record<string, unknown>,
    key: GenerateKeyPairResult = rsa,
    header: { alg: string; kid?: string } = { alg: 'RS256', kid: 'rsa-1' },
  ) =>
    new SignJWT({ ...claims })
      .setProtectedHeader(header)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('alice@bank.example')
      .setIssuedAt()
      .setExpirationTime(now() + 600)
      .sign(key.privateKey);
  const withScopes = (scopes: readonly Scope[]) => token({ scope: ['openid', 'profile', ...scopes].join(' ') });
  const withRoles = (scopes: readonly Scope[]) =>
    token({ realm_access: { roles: ['offline_access', ...scopes.map((s) => ROLE_OF[s])] } }, ec, {
      alg: 'ES256',
      kid: 'ec-1',
    });

  /** One operation per guarded field: the scope it needs (null: any authenticated caller). */
  const PROBES: Array<{ scope: Scope | null; query: string }> = [
    { scope: 'sentiment:read', query: '{ sentiment(texts: ["Stocks rally"]) { label } }' },
    { scope: 'credit:assess', query: '{ creditAssessments(accounts: []) { score } }' },
    { scope: 'forecast:read', query: '{ symbols { symbol } }' },
    { scope: 'audit:read', query: '{ creditDecisions(limit: 1) { accountId } }' },
    { scope: 'admin', query: 'mutation { setShadowModelVersion(name: "sentiment-bert", version: null) { version } }' },
    { scope: null, query: '{ models { name } }' },
  ];
  const subsets = (all: readonly Scope[]): Scope[][] =>
    all.reduce<Scope[][]>((acc, s) => [...acc, ...acc.map((c) => [...c, s])], [[]]);

  /** Every scope combination against every probe: grants where the scopes do not allow are improper, denials where they do are wrong too. */
  async function matrix(url: string, sign: (scopes: readonly Scope[]) => Promise<string>) {
    let checks = 0;
    let improperGrants = 0;
    let wrongDenials = 0;
    for (const scopes of subsets(SCOPES)) {
      const auth = { authorization: `Bearer ${await sign(scopes)}` };
      const answers = await Promise.all(PROBES.map((p) => gql(url, p.query, undefined, auth)));
      for (const [i, res] of answers.entries()) {
        const { scope } = PROBES[i]!;
        const allowed = scope === null || scopes.includes(scope) || scopes.includes('admin');
        const denied = codes(res).some((c) => c === 'FORBIDDEN' || c === 'UNAUTHENTICATED');
        if (denied)
          assert.match(res.body.errors![0]!.message, /^bearer token of jwt:alice@bank\.example lacks the scope /);
        if (!denied && !allowed) improperGrants++;
        if (denied && allowed) wrongDenials++;
        checks++;
      }
    }
    return { checks, improperGrants, wrongDenials };
  }

  /** Tokens that must never be taken, each with the message that says why (all claim every scope). */
  const badTokens = async (): Promise<Array<[string, string, RegExp]>> => {
    const all = { scope: 'admin explore' };
    const sign = (build: SignJWT, key: GenerateKeyPairResult = rsa, kid = 'rsa-1') =>
      build.setProtectedHeader({ alg: 'RS256', kid }).sign(key.privateKey);
    const base = () => new SignJWT(all).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('mallory').setIssuedAt();
    const valid = await sign(base().setExpirationTime(now() + 600));
    const [h, p, s] = valid.split('.') as [string, string, string];
    const hs256 = await new SignJWT(all)
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('mallory')
      .setExpirationTime(now() + 600)
      .sign(new TextEncoder().encode('a shared secret nobody should trust here'));
    return [
      [
        'expired',
        await sign(base().setExpirationTime(now() - 120)),
        /^bearer token expired at .+ \(clock tolerance 30 s\)/,
      ],
      [
        'not yet valid',
        await sign(
          base()
            .setExpirationTime(now() + 7200)
            .setNotBefore(now() + 3600),
        ),
        /^bearer token is not valid before /,
      ],
      [
        'wrong issuer',
        await sign(
          base()
            .setIssuer('https://evil.example.net')
            .setExpirationTime(now() + 600),
        ),
        /^bearer token's issuer must be https:\/\/idp\.example\.com\/realms\/bank, got "https:\/\/evil\.example\.net"/,
      ],
      [
        'wrong audience',
        await sign(
          base()
            .setAudience('another-api')
            .setExpirationTime(now() + 600),
        ),
        /^bearer token's audience must include other-app or fin-intel, got "another-api"/,
      ],
      [
        'wrong key, same kid',
        await sign(base().setExpirationTime(now() + 600), rogue),
        /^bearer token's signature does not verify with the issuer's key rsa-1/,
      ],
      [
        'unknown kid',
        await sign(base().setExpirationTime(now() + 600), rogue, 'rogue-1'),
        /^bearer token is signed with a key \(kid "rogue-1", alg "RS256"\) that the issuer's key set does not hold/,
      ],
      [
        'alg none',
        new UnsecuredJWT(all)
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject('mallory')
          .setExpirationTime(now() + 600)
          .encode(),
        /^bearer token's algorithm must be one of RS256, PS256, ES256, EdDSA, got "none"/,
      ],
      [
        'HS256 with a guessed secret',
        hs256,
        /^bearer token's algorithm must be one of RS256, PS256, ES256, EdDSA, got "HS256"/,
      ],
      ['no exp', await sign(base()), /^bearer token must carry the exp claim/],
      [
        'no sub',
        await new SignJWT(all)
          .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime(now() + 600)
          .sign(rsa.privateKey),
        /^bearer token must carry the sub claim/,
      ],
      [
        'payload swapped',
        `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'ops' })).toString('base64url')}.${s}`,
        /^bearer token's signature does not verify/,
      ],
      ['header not JSON', 'bm90IGpzb24.eyJzdWIiOiJ4In0.c2ln', /^bearer token is not a valid signed JWT/],
    ];
  };

  it('every scope combination (file JWKS, `scope` claim): each probe is granted exactly when its scope is there; API keys keep working', async () => {
    const result = await matrix(fileGw.url, withScopes);
    assert.deepEqual(result, { checks: 2 ** SCOPES.length * PROBES.length, improperGrants: 0, wrongDenials: 0 });
    const key = await gql(
      fileGw.url,
      SentimentDocument,
      { texts: ['Stocks rally'] },
      { authorization: `Bearer ${KEYS[0]!.key}` },
    );
    assert.equal(key.body.data!.sentiment.length, 1);
    assert.deepEqual(
      codes(await gql(fileGw.url, SentimentDocument, { texts: ['x'] })),
      ['UNAUTHENTICATED'],
      'no credential: still UNAUTHENTICATED',
    );
  });

  it('invalid tokens are refused with 401 UNAUTHENTICATED saying why, on every path, never served as anonymous', async () => {
    const tokens = await badTokens();
    let refused = 0;
    for (const [what, bad, message] of tokens) {
      const auth = { authorization: `Bearer ${bad}` };
      const answers = [
        await gql(fileGw.url, '{ models { name } }', undefined, auth),
        await gql(
          fileGw.url,
          'mutation { setShadowModelVersion(name: "sentiment-bert", version: null) { version } }',
          undefined,
          auth,
        ),
        {
          ...(await fetch(`${fileGw.url}?query=${encodeURIComponent('{ models { name } }')}`, {
            headers: { ...auth, 'apollo-require-preflight': 'true' },
          }).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> },
          }))),
        },
      ];
      for (const res of answers) {
        assert.equal(res.status, 401, what);
        assert.deepEqual(
          res.body.errors?.map((e) => e.extensions?.code),
          ['UNAUTHENTICATED'],
          what,
        );
        assert.match(res.body.errors![0]!.message, message, what);
        refused++;
      }
      const v2 = await fetch(fileGw.url.replace('/graphql', '/v2/models/sentiment-bert/infer'), {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['x'] }] }),
      });
      assert.equal(v2.status, 401, `${what} (v2)`);
      assert.match(((await v2.json()) as { error: string }).error, message, `${what} (v2)`);
      refused++;
    }
    assert.equal(refused, tokens.length * 4);
  });

  it('a JWKS served over HTTP: 503 AUTH_UNAVAILABLE while it is down, then the matrix with roles mapped to scopes', async () => {
    const down = await gql(urlGw.url, '{ models { name } }', undefined, {
      authorization: `Bearer ${await withRoles(['admin'])}`,
    });
    assert.equal(down.status, 503);
    assert.deepEqual(codes(down), ['AUTH_UNAVAILABLE']);
    assert.match(
      down.body.errors![0]!.message,
      new RegExp(
        `^bearer tokens cannot be verified now: the issuer's key set \\(http://127\\.0\\.0\\.1:${jwksPort}/protocol/openid-connect/certs\\) is unavailable`,
      ),
    );
    assert.equal(down.headers.get('retry-after'), '5');
    await new Promise<void>((resolve) => jwksServer.listen(jwksPort, '127.0.0.1', resolve));
    const result = await matrix(urlGw.url, withRoles);
    assert.deepEqual(result, { checks: 2 ** SCOPES.length * PROBES.length, improperGrants: 0, wrongDenials: 0 });
    const analyst = token({ realm_access: { roles: ['analyst'] } }, ec, { alg: 'ES256', kid: 'ec-1' });
    assert.deepEqual(
      codes(await gql(urlGw.url, '{ symbols { symbol } }', undefined, { authorization: `Bearer ${await analyst}` })),
      [],
      'a role may map to several scopes',
    );
    assert.deepEqual(codes(await gql(urlGw.url, '{ models { name } }')), ['UNAUTHENTICATED'], 'JWTs alone: not open');
    for (const [what, bad] of [
      ['file key (not this issuer set)', await withScopes(['admin'])],
      ...(await badTokens()).filter(([w]) => ['expired', 'alg none', 'wrong audience'].includes(w)),
    ]) {
      const res = await gql(urlGw.url, '{ models { name } }', undefined, { authorization: `Bearer ${bad}` });
      assert.equal(res.status, 401, what);
      assert.deepEqual(codes(res), ['UNAUTHENTICATED'], what);
    }
  });
});
