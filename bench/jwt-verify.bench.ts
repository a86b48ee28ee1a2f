// npm run bench:jwt: what one bearer-JWT check costs the event loop, verified by jose (RS256 and ES256, a local key
// set) and answered from JwtVerifier's cache of verified tokens: the case for remembering a token for 30 s.
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { JwtVerifier, type JwtAlgorithm } from '../src/platform/jwt-auth.js';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 2000);
for (const alg of ['RS256', 'ES256'] as const satisfies readonly JwtAlgorithm[]) {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const keys = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg }] };
  const verifier = new JwtVerifier({
    issuer: 'https://idp.example.com',
    audience: ['fin-intel'],
    jwks: { file: '(bench)', keys },
    algorithms: [alg],
    clockToleranceSeconds: 30,
    scopesClaim: 'scope',
    scopeMap: undefined,
  });
  const tokens = await Promise.all(
    Array.from({ length: TOKENS }, (_, i) =>
      new SignJWT({ scope: 'sentiment:read' })
        .setProtectedHeader({ alg, kid: 'k1' })
        .setIssuer('https://idp.example.com')
        .setAudience('fin-intel')
        .setSubject(`user-${i}`)
        .setExpirationTime('10m')
        .sign(privateKey),
    ),
  );
  await verifier.verify(tokens[0]!); // imports the key once
  const pass = async () => {
    const started = performance.now();
    for (const token of tokens) await verifier.verify(token);
    return ((performance.now() - started) * 1000) / tokens.length;
  };
  const verified = await pass();
  const cached = await pass();
  console.log(
    `${alg}: verify ${verified.toFixed(1)} µs/token, cached ${cached.toFixed(1)} µs/token (${TOKENS} tokens)`,
  );
}
