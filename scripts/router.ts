// npm run router [-- SUPERGRAPH [PORT]]: a federation router (Hive Gateway's runtime) serving a composed
// supergraph on PORT (default 4100), for trying federation on one machine, with deploy/gateway.config.ts (the
// callers' credentials, request id and trace context go to the subgraphs). In production run Hive Gateway or
// Apollo Router themselves (compose.yaml runs Hive Gateway with the same configuration).
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { gatewayConfig } from '../deploy/gateway.config.js';

const [file = 'deploy/supergraph.graphql', port = '4100'] = process.argv.slice(2);
const router = http.createServer(createGatewayRuntime({ supergraph: readFileSync(file, 'utf8'), ...gatewayConfig }));
router.listen(Number(port), () => console.log(`federation router on http://localhost:${port}/graphql (supergraph ${file})`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => router.close(() => process.exit(0)));
