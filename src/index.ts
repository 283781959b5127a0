/**
 * tsnsq as a library: the daemons to embed (nsqd, nsqlookupd) with their options, and the
 * socket-free protocol codecs for anything that speaks NSQ's wire formats. The command-line
 * binaries (`nsqd`, `nsqlookupd`) are thin wrappers around the same classes.
 */

// ---- daemons ------------------------------------------------------------------------------
export { Nsqd, type BoundAddress } from './nsqd/nsqd.js';
export {
  defaultNsqdOptions,
  NSQD_VERSION,
  type NsqdOptions,
  OptionsValidationError,
  parseNsqdArgs,
  validateNsqdOptions,
} from './nsqd/options.js';
export { Nsqlookupd } from './nsqlookupd/nsqlookupd.js';
export { defaultNsqlookupdOptions, NSQLOOKUPD_VERSION, type NsqlookupdOptions, parseNsqlookupdArgs } from './nsqlookupd/options.js';
export { Logger, type LogLevel, parseLogLevel } from './lib/logger.js';

// ---- nsqd TCP protocol V2 -----------------------------------------------------------------
export { CommandParser, MAGIC_V2, type ParsedItem } from './protocol/command-parser.js';
export { ProtocolError } from './protocol/errors.js';
export {
  encodeFrame,
  type Frame,
  FRAME_TYPE_ERROR,
  FRAME_TYPE_MESSAGE,
  FRAME_TYPE_RESPONSE,
  FrameDecodeError,
  FrameDecoder,
} from './protocol/frame.js';
export { decodeMessage, Message, MessageDecodeError, MESSAGE_HEADER_SIZE } from './protocol/message.js';
export { isEphemeral, isValidChannelName, isValidTopicName } from './protocol/names.js';
export { SnappyFrameDecoder, SnappyFrameEncoder, SnappyFrameError } from './protocol/snappy-stream.js';
export { DeflateStreamWriter, InflateStreamReader } from './protocol/deflate-stream.js';

// ---- nsqlookupd TCP protocol V1 -----------------------------------------------------------
export {
  encodeLookupCommand,
  LookupCommandParser,
  type LookupItem,
  LookupResponseDecoder,
  LookupResponseError,
  MAGIC_V1,
} from './protocol/lookup-codec.js';

// ---- disk queue (go-diskqueue's format) ---------------------------------------------------
export type { BackendQueue } from './diskqueue/backend-queue.js';
export { DiskQueue, type DiskQueueOptions } from './diskqueue/disk-queue.js';

// ---- client -------------------------------------------------------------------------------
// ---- the client library (also as 'tsnsq/client') ------------------------------------------
export * from './client/index.js';
