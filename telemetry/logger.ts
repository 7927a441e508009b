/**
 * pino JSON logs. `authorization` is redacted wherever it appears (request or upstream headers), so a debug
 * dump of headers can never leak a registry token into a node's log pipeline.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      name: 'pullgate',
      level,
      base: { pid: process.pid },
      redact: {
        paths: ['authorization', '*.authorization', '*.headers.authorization', 'headers.authorization', 'password', '*.password'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
