// npm run router [-- SUPERGRAPH [PORT]]: a federation router (Hive Gateway's runtime) serving a composed
// supergraph on PORT (default 4100), for trying federation on one machine. In production run Hive
// Gateway or Apollo Router themselves (compose.yaml does).
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';

const [file = 'deploy/supergraph.graphql', port = '4100'] = process.argv.slice(2);
const router = http.createServer(createGatewayRuntime({ supergraph: readFileSync(file, 'utf8') }));
router.listen(Number(port), () => console.log(`federation router on http://localhost:${port}/graphql (supergraph ${file})`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => router.close(() => process.exit(0)));
