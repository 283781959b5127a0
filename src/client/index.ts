/**
 * The tsnsq client library: Producer and Consumer for NSQ (protocol V2), with TLS, Snappy,
 * DEFLATE, AUTH, nsqlookupd discovery, shared max-in-flight and backoff.
 */
export { Producer, type ProducerOptions, type ProducerState } from './producer.js';
export { Consumer, type ConsumerStats } from './consumer.js';
export type { ConsumerOptions } from './consumer-options.js';
export type { MessageHandler } from './message-dispatcher.js';
export { Message, type MessageResponder } from './message.js';
export { NsqError, clientError, type ClientErrorCode } from './errors.js';
export {
  CLIENT_VERSION,
  identifyBody,
  joinHostPort,
  parseIdentifyResponse,
  resolveConnectionOptions,
  splitHostPort,
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  type ServerFeatures,
} from './options.js';
export { Connection, type AuthIdentity, type ConnectionHandler, type ConnectionState } from './connection.js';
export { LookupError, lookupUrl, parseLookupResponse, queryLookupd } from './lookupd.js';
export { backoffDuration, backoffStep, cappedRdy, perConnectionRdy, type BackoffSignal, type BackoffStep, type BackoffStrategy } from './flow-control.js';
export * as commands from './commands.js';
export { ConfigOptionError, applyClientOption, applyClientOptions, type ClientOptions } from './config-opt.js';
