import { isEphemeral } from '../../protocol/names.js';
import type { CommandHandler } from './types.js';
import { channelRegistration, topicRegistration } from '../registration-db.js';
import { topicChannelParams } from './topic-channel-params.js';

/**
 * `UNREGISTER <topic> [<channel>]` (upstream `nsqlookupd/lookup_protocol_v1.go` UNREGISTER). An ephemeral channel's key goes away with
 * its last producer. A topic unregistration also drops the peer from the topic's channels.
 */
export const unregister: CommandHandler = {
  requires: 'identified',
  run(session, params) {
    const [topic, channel] = topicChannelParams('UNREGISTER', params);
    const { db, logger } = session.ctx;
    const id = session.peerInfo!.id;
    if (channel !== '') {
      const key = channelRegistration(topic, channel);
      const { removed, left } = db.removeProducer(key, id);
      if (removed) logger.info(`DB: client(${session}) UNREGISTER category:channel key:${topic} subkey:${channel}`);
      if (left === 0 && isEphemeral(channel)) db.removeRegistration(key);
      return 'OK';
    }
    // nsqd unregisters its channels before their topic, so anything removed here is unexpected.
    for (const r of db.findRegistrations('channel', topic, '*')) {
      if (db.removeProducer(r, id).removed) {
        logger.warn(`client(${session}) unexpected UNREGISTER category:channel key:${topic} subkey:${r.subkey}`);
      }
    }
    const key = topicRegistration(topic);
    const { removed, left } = db.removeProducer(key, id);
    if (removed) logger.info(`DB: client(${session}) UNREGISTER category:topic key:${topic} subkey:`);
    if (left === 0 && isEphemeral(topic)) db.removeRegistration(key);
    return 'OK';
  },
};
