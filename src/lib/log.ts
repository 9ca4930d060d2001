import pino, { type Logger } from 'pino';

/** Every path under which a secret could reach a log line; pino replaces the value. */
const REDACT_PATHS = [
  'pap',
  '*.pap',
  'password',
  '*.password',
  '*.*.password',
  'accounts[*].password',
  'sipPassword',
  '*.sipPassword',
  'credential',
  '*.credential',
  'credentialHash',
  '*.credentialHash',
  'digits',
  '*.digits',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'token',
  '*.token',
  'secret',
  '*.secret',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'papgate' } },
    destination,
  );
}
