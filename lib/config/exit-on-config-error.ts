/**
 * How the app process (`bin/app.ts`, run by the CDK CLI) shows a configuration error: one line on stderr,
 * `error: <message naming the key and the value>`, and exit status 1, without a stack trace.
 */
import { writeSync } from 'node:fs';
import { ConfigError } from './environment-config';

/**
 * Runs `load` and returns what it returns. A ConfigError is a value for the user to fix, not a bug to debug, so its
 * stack would only bury the one line that matters (Node prints an uncaught error with the throwing source line and
 * every frame); any other error is thrown on unchanged, stack and all.
 */
export function exitOnConfigError<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Synchronous: process.exit does not wait for a pending asynchronous write (stderr to a pipe on macOS is one).
    writeSync(process.stderr.fd, `error: ${oneLine(error.message)}\n`);
    process.exit(1);
  }
}

/** A message is one line by construction (values are JSON-quoted); this keeps it so if an expectation ever is not. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/gu, ' ');
}
