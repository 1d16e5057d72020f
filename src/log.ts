// The operational log (pino JSON on stderr). It carries ids, states and errors — never SQL text, tokens or
// passwords; the redact paths are the net under that rule, not the rule itself.
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'token', '*.token', 'password', '*.password', 'key', '*.key', 'secret', '*.secret',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'connection.password', 'connection.url', 'sql', '*.sql',
];

/** `destination` is a file path or fd (default stderr); tests point it at a file to grep. */
export function createLogger(level: string = process.env.JITGATE_LOG_LEVEL ?? 'info', destination: string | number = 2): Logger {
  return pino({
    level,
    base: { service: 'jitgate' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, pino.destination({ dest: destination, sync: false }));
}
