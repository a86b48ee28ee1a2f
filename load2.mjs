import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
const texts = readFileSync('models/sentiment-bert/train/headlines.csv', 'utf8').trim().split('\n').slice(1).map((l) => l.slice(0, l.lastIndexOf(',')));
const bodies = texts.map((t) => JSON.stringify({ query: 'query($t:[String!]!){ sentiment(texts:$t) { label score } }', variables: { t: [t] } }));
let i = 0;
const r = await autocannon({ url: 'http://127.0.0.1:4104/graphql', connections: 32, duration: 6, method: 'POST', headers: { 'content-type': 'application/json' },
  requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }] });
console.log(r.requests.average, r.latency.p50, r.latency.p99);
