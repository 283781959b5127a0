import { formatDuration } from '../../lib/duration.js';
import type { CommandHandler } from './types.js';

/** `PING`: allowed before IDENTIFY; refreshes the peer's last-update time once identified. */
export const ping: CommandHandler = {
  requires: 'nothing',
  run(session) {
    const info = session.peerInfo;
    if (info !== null) {
      const now = session.ctx.now();
      session.ctx.logger.info(`CLIENT(${info.id}): pinged (last ping ${formatDuration(now - info.lastUpdate)})`);
      info.lastUpdate = now;
    }
    return 'OK';
  },
};
