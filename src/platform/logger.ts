import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout. Request bodies and inputs are never logged: they may hold personal data. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'fin-intel-gateway' }, timestamp: pino.stdTimeFunctions.isoTime });
}
