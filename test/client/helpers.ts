import { Logger } from '../../src/lib/logger.js';

/** A client logger that keeps its lines (for failure messages) instead of printing them. */
export function quietLogger(lines: string[] = []): Logger {
  return new Logger('', process.env.CLIENT_TEST_LOG ? 'debug' : 'error', (l) => (process.env.CLIENT_TEST_LOG ? process.stderr.write(l + '\n') : lines.push(l)));
}
