import { isValidChannelName, isValidTopicName } from '../../protocol/names.js';
import { ProtocolError } from '../../protocol/errors.js';

/**
 * `<topic> [<channel>]` of REGISTER/UNREGISTER, validated like the original (single-quoted names;
 * extra parameters ignored). The channel is '' when absent.
 */
export function topicChannelParams(command: string, params: readonly string[]): [topic: string, channel: string] {
  if (params.length === 0) throw new ProtocolError('E_INVALID', `${command} insufficient number of params`);
  const topic = params[0]!;
  const channel = params.length >= 2 ? params[1]! : '';
  if (!isValidTopicName(topic)) {
    throw new ProtocolError('E_BAD_TOPIC', `${command} topic name '${topic}' is not valid`);
  }
  if (channel !== '' && !isValidChannelName(channel)) {
    throw new ProtocolError('E_BAD_CHANNEL', `${command} channel name '${channel}' is not valid`);
  }
  return [topic, channel];
}
