import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ApiKeyRing, hashApiKey, hasScope } from '../../src/platform/api-keys.js';
import { loadConfig } from '../../src/platform/config.js';
import { TokenBucketLimiter } from '../../src/platform/rate-limiter.js';

describe('ApiKeyRing', () => {
  const ring = new ApiKeyRing([{ name: 'desk', sha256: hashApiKey('secret-desk-key'), scopes: ['forecast:read'] }]);
  it('finds the caller by Bearer token or x-api-key, never by an unknown key', () => {
    assert.equal(ring.authenticate('Bearer secret-desk-key', undefined)?.name, 'desk');
    assert.equal(ring.authenticate(undefined, 'secret-desk-key')?.name, 'desk');
    assert.equal(ring.authenticate('Bearer nope', undefined), undefined);
    assert.equal(ring.authenticate('Basic secret-desk-key', undefined), undefined);
    assert.equal(ring.open, false);
    assert.equal(new ApiKeyRing([]).open, true);
  });
  it('admin holds every scope', () => {
    assert.ok(hasScope({ name: 'a', scopes: new Set(['admin']) }, 'audit:read'));
    assert.ok(!hasScope({ name: 'b', scopes: new Set(['forecast:read']) }, 'credit:assess'));
  });
});

describe('TokenBucketLimiter', () => {
  it('allows the burst, refuses beyond it with a retry hint, and refills over time', () => {
    let t = 0;
    const limiter = new TokenBucketLimiter(10, 100, () => t);
    assert.ok(limiter.take('a', 60).allowed);
    assert.ok(limiter.take('a', 40).allowed);
    const refused = limiter.take('a', 30);
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterSeconds, 3);
    assert.ok(limiter.take('b', 100).allowed, 'buckets are per caller');
    t = 3;
    assert.ok(limiter.take('a', 30).allowed);
  });
});

describe('API_KEYS and rate-limit configuration', () => {
  it('parses hashed keys with scopes and rejects what is malformed', () => {
    const c = loadConfig({
      API_KEYS: JSON.stringify([{ name: 'fe', sha256: hashApiKey('k'), scopes: ['sentiment:read'] }]),
    });
    assert.equal(c.access.apiKeys[0]!.name, 'fe');
    assert.throws(
      () => loadConfig({ API_KEYS: '[{"name":"fe","sha256":"abc","scopes":["sentiment:read"]}]' }),
      /sha256: the hex SHA-256/,
    );
    assert.throws(
      () => loadConfig({ API_KEYS: JSON.stringify([{ name: 'fe', sha256: hashApiKey('k'), scopes: ['root'] }]) }),
      /API_KEYS: 0\.scopes/,
    );
    assert.throws(() => loadConfig({ API_KEYS: 'nope' }), /API_KEYS must be JSON/);
    assert.throws(
      () => loadConfig({ RATE_LIMIT_BURST: '100' }),
      /RATE_LIMIT_BURST \(100\) must be at least MAX_QUERY_COMPLEXITY/,
    );
  });
});

describe('JWT_* and TRUSTED_DOCUMENTS configuration', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jwt-config-'));
  const jwks = path.join(dir, 'jwks.json');
  writeFileSync(
    jwks,
    JSON.stringify({
      keys: [
        {
          kty: 'EC',
          crv: 'P-256',
          x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
          y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
          kid: 'k1',
        },
      ],
    }),
  );
  const jwt = { JWT_ISSUER: 'https://idp.example.com', JWT_AUDIENCE: 'fin-intel, desk', JWT_JWKS: jwks };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes issuer, audiences, a key set file or URL, algorithms, tolerance, the scopes claim and a scope map', () => {
    assert.equal(loadConfig({}).access.jwt, undefined);
    const c = loadConfig({
      ...jwt,
      JWT_SCOPES_CLAIM: 'realm_access.roles',
      JWT_SCOPE_MAP: '{"analyst":["sentiment:read","forecast:read"]}',
      JWT_ALGORITHMS: 'ES256',
      JWT_CLOCK_TOLERANCE_S: '5',
    }).access.jwt!;
    assert.deepEqual(
      [c.issuer, c.audience, c.algorithms, c.clockToleranceSeconds, c.scopesClaim],
      ['https://idp.example.com', ['fin-intel', 'desk'], ['ES256'], 5, 'realm_access.roles'],
    );
    assert.equal('keys' in c.jwks && c.jwks.keys.keys.length, 1);
    assert.deepEqual(c.scopeMap, { analyst: ['sentiment:read', 'forecast:read'] });
    assert.deepEqual(loadConfig({ ...jwt, JWT_JWKS: 'https://idp.example.com/certs' }).access.jwt!.jwks, {
      url: 'https://idp.example.com/certs',
    });
  });

  it('refuses what is incomplete or unsafe, naming the variable', () => {
    assert.throws(
      () => loadConfig({ JWT_ISSUER: 'https://idp.example.com' }),
      /bearer JWTs need JWT_ISSUER, JWT_AUDIENCE and JWT_JWKS together; missing JWT_AUDIENCE, JWT_JWKS/,
    );
    assert.throws(
      () => loadConfig({ ...jwt, JWT_ALGORITHMS: 'RS256,none' }),
      /JWT_ALGORITHMS must list algorithms from RS256, .*, got RS256,none/,
    );
    assert.throws(() => loadConfig({ ...jwt, JWT_ALGORITHMS: 'HS256' }), /JWT_ALGORITHMS must list/);
    assert.throws(
      () => loadConfig({ ...jwt, JWT_JWKS: path.join(dir, 'missing.json') }),
      /JWT_JWKS must be an http\(s\):\/\/ URL or a readable JSON key set file/,
    );
    writeFileSync(path.join(dir, 'empty.json'), '{"keys":[]}');
    assert.throws(
      () => loadConfig({ ...jwt, JWT_JWKS: path.join(dir, 'empty.json') }),
      /must hold a JSON Web Key Set .* with at least one key/,
    );
    assert.throws(() => loadConfig({ ...jwt, JWT_SCOPE_MAP: '{"analyst":["root"]}' }), /JWT_SCOPE_MAP: analyst\.0/);
    assert.throws(() => loadConfig({ JWT_SCOPE_MAP: '{}' }), /JWT_SCOPE_MAP needs JWT_ISSUER/);
    assert.throws(() => loadConfig({ TRUSTED_DOCUMENTS: 'on' }), /TRUSTED_DOCUMENTS=on needs TRUSTED_DOCUMENTS_FILE/);
    assert.throws(() => loadConfig({ TRUSTED_DOCUMENTS: 'yes' }), /TRUSTED_DOCUMENTS/);
    assert.throws(
      () => loadConfig({ TRUSTED_DOCUMENTS_FILE: path.join(dir, 'nope.json') }),
      /TRUSTED_DOCUMENTS_FILE .*nope\.json does not exist/,
    );
    assert.equal(loadConfig({}).access.trustedDocuments.enforce, false);
    assert.throws(
      () => loadConfig({ TRUSTED_DOCUMENTS_FILE: jwks, TRUSTED_DOCUMENTS_DATABASE_URL: 'postgres://db/gw' }),
      /both set: choose one source of trusted documents/,
    );
    assert.throws(
      () => loadConfig({ TRUSTED_DOCUMENTS_DATABASE_URL: 'mysql://db/gw' }),
      /TRUSTED_DOCUMENTS_DATABASE_URL.*a postgres:\/\/ URL/,
    );
    assert.throws(() => loadConfig({ TRUSTED_DOCUMENTS_REFRESH_S: '-1' }), /TRUSTED_DOCUMENTS_REFRESH_S/);
    const shared = loadConfig({ TRUSTED_DOCUMENTS: 'on', TRUSTED_DOCUMENTS_DATABASE_URL: 'postgres://db/gw' }).access
      .trustedDocuments;
    assert.deepEqual(shared, { enforce: true, file: undefined, databaseUrl: 'postgres://db/gw', refreshMs: 10_000 });
    assert.equal(loadConfig({ TRUSTED_DOCUMENTS_REFRESH_S: '0' }).access.trustedDocuments.refreshMs, 0);
  });
});
