import type { BackendQueue } from '../diskqueue/backend-queue.js';
import type { Logger } from '../lib/logger.js';
import type { Message } from '../protocol/message.js';

/**
 * Shutdown flush shared by topics and channels: writes the messages still held in memory to the
 * backend (disk queue) so a restart delivers them. A failed write is logged with the owner's log
 * prefix (`TOPIC(name)` / `CHANNEL(name)`) and the rest are still attempted, as the original does.
 */
export function writeMessagesToBackend(backend: BackendQueue, messages: Iterable<Message>, logger: Logger, owner: string): void {
  for (const m of messages) {
    try {
      backend.putFrom(m);
    } catch (err) {
      logger.error(`${owner}: failed to write message to backend - ${(err as Error).message}`);
    }
  }
}
