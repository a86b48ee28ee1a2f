import 'reflect-metadata';
import { ConfigError, loadConfig } from './platform/config.js';
import { createLogger } from './platform/logger.js';
import { ListenError, startGateway } from './server/gateway.js';
import { ManifestError } from './runtime/model-manifest.js';

/** Configuration the process cannot run with: one line on stderr and exit code 2, never a stack trace. */
function refuse(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

let config: ReturnType<typeof loadConfig> | undefined;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  refuse(error.message);
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
    gateway.stop().then(
      () => exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (error) {
  // A missing models folder, an unknown model name or a port in use are configuration problems.
  if (error instanceof ManifestError || error instanceof ListenError)
    logger.flush(() => refuse(`cannot start: ${error.message}`));
  else {
    logger.fatal({ err: error }, `gateway failed to start: ${(error as Error).message}`);
    exit(1);
  }
}
