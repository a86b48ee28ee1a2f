import 'reflect-metadata';
import { ConfigError, loadConfig } from './platform/config.js';
import { createLogger } from './platform/logger.js';
import { startGateway } from './server/gateway.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
const logger = createLogger(config.logLevel);
/** Exits once pino has written out its buffer, so the last log lines are never lost. */
const exit = (code: number) => logger.flush(() => process.exit(code));

try {
  const gateway = await startGateway(config, logger);
  let signals = 0;
  const shutdown = (signal: string) => {
    if (signals++ > 0) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    logger.info({ signal }, 'shutting down');
    gateway.stop().then(() => exit(0), (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (error) {
  logger.fatal({ err: error }, `gateway failed to start: ${(error as Error).message}`);
  exit(1);
}
