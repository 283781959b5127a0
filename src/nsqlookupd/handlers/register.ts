import type { CommandHandler } from './types.js';
import { Producer, channelRegistration, topicRegistration } from '../registration-db.js';
import { topicChannelParams } from './topic-channel-params.js';

/** `REGISTER <topic> [<channel>]`: the peer produces the topic (and the channel, if given). */
export const register: CommandHandler = {
  requires: 'identified',
  run(session, params) {
    const [topic, channel] = topicChannelParams('REGISTER', params);
    const { db, logger } = session.ctx;
    const info = session.peerInfo!;
    if (channel !== '' && db.addProducer(channelRegistration(topic, channel), new Producer(info))) {
      logger.info(`DB: client(${session}) REGISTER category:channel key:${topic} subkey:${channel}`);
    }
    if (db.addProducer(topicRegistration(topic), new Producer(info))) {
      logger.info(`DB: client(${session}) REGISTER category:topic key:${topic} subkey:`);
    }
    return 'OK';
  },
};
