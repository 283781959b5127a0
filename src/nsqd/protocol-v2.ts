import { goJson } from '../http/respond.js';
import type { BodyBatch } from '../protocol/body-batch.js';
import { byteString, ProtocolError } from '../protocol/errors.js';
import { encodeResponse, FRAME_CLOSE_WAIT, FRAME_OK } from '../protocol/frame.js';
import { nowTimestamp, MESSAGE_ID_LENGTH } from '../protocol/message.js';
import { idRefFromText, idRefText, type MessageIdRef } from '../protocol/message-id.js';
import { goQuoteBytes, isValidChannelName, isValidTopicName } from '../protocol/names.js';
import type { InFlightResult } from './channel.js';
import { refreshAuth } from './auth-gate.js';
import type { ClientV2 } from './client-v2.js';
import type { CommandHandler as Handler, Reply, SessionState } from './command-handler.js';

type CommandHandler = Handler<ClientV2>;
import { applyIdentify, decodeIdentify, decodeIdentifySliced, identifyResponse, negotiate, type IdentifyData } from './identify.js';
import { publishBodies, runSliced } from './mpub-slicer.js';
import { EXPERIMENT_TOPOLOGY_AWARE_CONSUMPTION } from './options.js';
import { PutError, type Topic } from './topic.js';

/**
 * The protocol V2 command table (docs/protocol.md, Commands): one handler per command, each declaring
 * its preconditions (states, TLS exemption, AUTH gate) for ClientV2 to enforce in the original's
 * order (docs/protocol.md, Connection states); the remaining checks sit in the handler next to the rule they
 * enforce. Errors are thrown as ProtocolError and answered (and the connection closed when fatal)
 * by ClientV2.
 */
const INIT: readonly SessionState[] = ['init'];
const SUBSCRIBED: readonly SessionState[] = ['subscribed'];
/** FIN/REQ/TOUCH keep working after CLS until the client closes. */
const SUBSCRIBED_OR_CLOSING: readonly SessionState[] = ['subscribed', 'closing'];

const invalid = (text: string) => new ProtocolError('E_INVALID', text);

/**
 * The original's ByteToBase10: unsigned decimal digits only, empty parses as 0, accumulated in a
 * uint64 that wraps silently. Up to 12 digits the value is a plain number (exact, and small enough
 * that `ms * 1e6` fits an int64); longer strings yield the wrapped uint64 as a bigint.
 */
function parseDigits(s: string): number | bigint | null {
  if (s.length <= 12) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return null;
    }
    return s === '' ? 0 : Number(s);
  }
  return /^[0-9]+$/.test(s) ? BigInt.asUintN(64, BigInt(s)) : null;
}

/** `time.Duration(ms) * time.Millisecond` back in ms, with the original's int64 wrap-around. */
function durationMs(n: number | bigint): number {
  if (typeof n === 'number') return n;
  return Number(BigInt.asIntN(64, BigInt.asIntN(64, n) * 1000000n)) / 1e6;
}

/** The ID parameter of FIN/REQ/TOUCH, decoded (message-id.ts). */
function messageIdParam(id: string): MessageIdRef {
  // Params are latin1 strings (one char per wire byte), so length is the byte count.
  if (id.length !== MESSAGE_ID_LENGTH) throw invalid('invalid message ID');
  return idRefFromText(id);
}

function publish(c: ClientV2, cmd: string, topic: Topic, put: () => void | Promise<void>): Reply {
  const failed = (err: unknown): never => {
    if (err instanceof PutError) throw new ProtocolError(`E_${cmd}_FAILED`, `${cmd} failed ${byteString(err.message)}`);
    throw err;
  };
  // OK once the topic says the publish is safe: at once, or after the group commit (--sync-every=1).
  const ack = (): Reply => {
    const p = topic.acknowledged();
    return p === null ? FRAME_OK : p.then(() => FRAME_OK, failed);
  };
  const doPut = (): Reply => {
    let r: void | Promise<void>;
    try {
      r = put();
    } catch (err) {
      return failed(err);
    }
    return r instanceof Promise ? r.then(ack, failed) : ack();
  };
  const ready = c.host.topicReady(topic);
  return ready === null ? doPut() : ready.then(doPut);
}

function countPub(c: ClientV2, topic: string, n: number): void {
  c.pubCounts.set(topic, (c.pubCounts.get(topic) ?? 0) + n);
}

function inFlightError(code: string, cmd: string, id: MessageIdRef, r: InFlightResult): ProtocolError {
  const why: Record<string, string> = {
    'not-in-flight': 'ID not in flight',
    'not-owner': 'client does not own message',
    exiting: 'exiting',
    'already-deferred': 'ID already deferred',
  };
  return new ProtocolError(code, `${cmd} ${idRefText(id)} failed ${why[r] ?? r}`, false);
}

const IDENTIFY: CommandHandler = {
  // Several are allowed while in init, each processed (docs/protocol.md, IDENTIFY).
  allowedIn: INIT,
  tlsExempt: true,
  exec(c, _params, body) {
    const b = body as Buffer;
    // A large body (up to --max-body-size) is decoded in slices that let other clients in.
    if (b.length > SLICED_IDENTIFY_BYTES) return runSliced(decodeIdentifySliced(b)).then((data) => identify(c, data));
    return identify(c, decodeIdentify(b));
  },
};

/** IDENTIFY bodies above this size are decoded in slices (see runSliced). */
const SLICED_IDENTIFY_BYTES = 64 * 1024;

function identify(c: ClientV2, data: IdentifyData): Reply {
  // Identity fields are stored before validation, as the original does.
  // An explicit "" is kept (/stats shows it, as the original's); only an absent (or null) field
  // leaves the remote-IP default.
  if (data.client_id !== undefined) c.clientId = data.client_id;
  if (data.hostname !== undefined) c.hostname = data.hostname;
  if (data.user_agent !== undefined) c.userAgent = data.user_agent;
  if (data.topology_region !== undefined) c.topologyRegion = data.topology_region;
  if (data.topology_zone !== undefined) c.topologyZone = data.topology_zone;
  const o = c.host.options;
  if (o.enableExperiment.includes(EXPERIMENT_TOPOLOGY_AWARE_CONSUMPTION)) {
    // Empty strings match too, as upstream: a node without a zone treats zone-less clients as local.
    c.zoneLocal = c.topologyZone === o.topologyZone;
    c.regionLocal = c.topologyRegion === o.topologyRegion;
  }
  // Every IDENTIFY (several are allowed before SUB) takes full effect, including on delivery:
  // upstream's message pump only applies the first one's heartbeat, buffer timeout, sample rate,
  // msg timeout and locality (docs/protocol.md, IDENTIFY). Deliberately not reproduced: no client
  // sends a second IDENTIFY, and one that did would expect it to work.
  const settings = applyIdentify(data, c.settings, o);
  c.applySettings(settings);
  c.host.logger.info(`[${c.remoteAddress}] IDENTIFY: ${JSON.stringify(data)}`);
  if (data.feature_negotiation !== true) return FRAME_OK;
  const n = negotiate(data, o, c.host.secureContext() !== null);
  c.sendFrame(encodeResponse(identifyResponse(o, c.host.version, settings, n, c.host.authEnabled())));
  if (!n.tls && !n.snappy && !n.deflate) return null;
  return c.upgrade(n).then(
    () => null,
    (err: unknown) => {
      if (err instanceof ProtocolError) throw err;
      throw new ProtocolError('E_IDENTIFY_FAILED', `IDENTIFY failed ${byteString((err as Error).message)}`);
    },
  );
}

const AUTH: CommandHandler = {
  allowedIn: INIT,
  check(_c, params) {
    if (params.length !== 0) throw invalid('AUTH invalid number of parameters');
  },
  async exec(c, _params, body) {
    if (c.auth !== null && c.auth.authorizations.length > 0) throw invalid('AUTH already set');
    if (!c.host.authEnabled()) throw new ProtocolError('E_AUTH_DISABLED', 'AUTH disabled');
    c.authSecret = (body as Buffer).toString('utf8');
    await refreshAuth(c);
    if (c.auth!.authorizations.length === 0) throw new ProtocolError('E_UNAUTHORIZED', 'AUTH no authorizations found');
    return encodeResponse(
      goJson({ identity: c.auth!.identity, identity_url: c.auth!.identityUrl, permission_count: c.auth!.authorizations.length }),
    );
  },
};

const SUB: CommandHandler = {
  allowedIn: INIT,
  auth: { at: 'line', channel: true },
  check(c, params) {
    if (c.settings.heartbeatIntervalMs <= 0) throw invalid('cannot SUB with heartbeats disabled');
    if (params.length < 2) throw invalid('SUB insufficient number of parameters');
    const [topicName, channelName] = params as [string, string];
    if (!isValidTopicName(topicName)) throw new ProtocolError('E_BAD_TOPIC', `SUB topic name ${goQuoteBytes(topicName)} is not valid`);
    if (!isValidChannelName(channelName)) {
      throw new ProtocolError('E_BAD_CHANNEL', `SUB channel name ${goQuoteBytes(channelName)} is not valid`);
    }
  },
  exec(c, params) {
    const [topicName, channelName] = params as [string, string];
    const subscribe = () => {
      if (c.closed) return null;
      // Upstream retries once after 100 ms, then answers `E_SUB_FAILED SUB failed to deleted
      // topic/channel`, when an ephemeral topic/channel is being deleted concurrently. Here an
      // ephemeral channel/topic is removed from its map in the same turn that empties it, so
      // getTopic/getChannel return the live one or a new one and that window does not exist.
      const topic = c.host.getTopic(topicName);
      const channel = topic.getChannel(channelName);
      const reason = channel.addConsumer(c);
      if (reason !== null) throw new ProtocolError('E_SUB_FAILED', `SUB failed ${reason}`);
      c.subscribed(channel);
      return FRAME_OK;
    };
    const ready = c.host.topicReady(c.host.getTopic(topicName));
    return ready === null ? subscribe() : ready.then(subscribe);
  },
};

const RDY: CommandHandler = {
  allowedIn: SUBSCRIBED,
  ignoredIn: ['closing'],
  exec(c, params) {
    let count: number | bigint = 1;
    if (params.length > 0) {
      const n = parseDigits(params[0]!);
      if (n === null) throw invalid(`RDY could not parse count ${params[0]}`);
      count = typeof n === 'number' ? n : BigInt.asIntN(64, n); // int64(b10)
    }
    const max = c.host.options.maxRdyCount;
    if (count < 0 || count > max) throw invalid(`RDY count ${count} out of range 0-${max}`);
    c.rdy = Number(count);
    c.channel?.pump();
    return null;
  },
};

const FIN: CommandHandler = {
  allowedIn: SUBSCRIBED_OR_CLOSING,
  exec(c, params) {
    if (params.length < 1) throw invalid('FIN insufficient number of params');
    return finish(c, messageIdParam(params[0]!));
  },
  execId: finish,
};

function finish(c: ClientV2, id: MessageIdRef): Reply {
  const r = c.channel === null ? 'not-in-flight' : c.channel.finishMessage(c.id, id);
  if (r !== 'ok') throw inFlightError('E_FIN_FAILED', 'FIN', id, r);
  c.finishCount++;
  c.inFlightReleased(1);
  return null;
}

const REQ: CommandHandler = {
  allowedIn: SUBSCRIBED_OR_CLOSING,
  exec(c, params) {
    if (params.length < 2) throw invalid('REQ insufficient number of params');
    const id = messageIdParam(params[0]!);
    const raw = parseDigits(params[1]!);
    if (raw === null) throw invalid(`REQ could not parse timeout ${params[1]}`);
    const max = c.host.options.maxReqTimeout;
    // Out-of-range timeouts are clamped, not refused; a wrapped (negative) duration means 0.
    let ms = durationMs(raw);
    if (ms < 0) {
      ms = 0;
    } else if (ms > max) {
      c.host.logger.info(`PROTOCOL(V2): [${c.remoteAddress}] REQ timeout ${raw} out of range 0-${max}. Setting to max.`);
      ms = max;
    }
    const r = c.channel === null ? 'not-in-flight' : c.channel.requeueMessage(c.id, id, ms);
    if (r !== 'ok') throw inFlightError('E_REQ_FAILED', 'REQ', id, r);
    c.requeueCount++;
    c.inFlightReleased(1);
    return null;
  },
};

const TOUCH: CommandHandler = {
  allowedIn: SUBSCRIBED_OR_CLOSING,
  exec(c, params) {
    if (params.length < 1) throw invalid('TOUCH insufficient number of params');
    const id = messageIdParam(params[0]!);
    const r = c.channel === null ? 'not-in-flight' : c.channel.touchMessage(c.id, id, c.msgTimeoutMs);
    if (r !== 'ok') throw inFlightError('E_TOUCH_FAILED', 'TOUCH', id, r);
    return null;
  },
};

const CLS: CommandHandler = {
  allowedIn: SUBSCRIBED,
  exec(c) {
    c.startClosing();
    return FRAME_CLOSE_WAIT;
  },
};

const NOP: CommandHandler = {
  allowedIn: 'any',
  exec() {
    return null;
  },
};

function topicParam(cmd: string, params: string[], min: number): string {
  if (params.length < min) throw invalid(`${cmd} insufficient number of parameters`);
  const t = params[0]!;
  if (!isValidTopicName(t)) {
    // MPUB repeats the code in its text (sic, upstream nsqd/protocol_v2.go MPUB).
    const prefix = cmd === 'MPUB' ? 'E_BAD_TOPIC ' : '';
    throw new ProtocolError('E_BAD_TOPIC', `${prefix}${cmd} topic name ${goQuoteBytes(t)} is not valid`);
  }
  return t;
}

// Publishing is allowed in any state (docs/protocol.md, Connection states); PUB checks auth once the body is read.
const PUB: CommandHandler = {
  allowedIn: 'any',
  auth: { at: 'body' },
  check(_c, params) {
    topicParam('PUB', params, 1);
  },
  exec(c, params, body) {
    const topicName = params[0]!;
    const topic = c.host.getTopic(topicName);
    const [hi, lo] = nowTimestamp();
    return publish(c, 'PUB', topic, () => {
      topic.putMessage(topic.newMessage(body as Buffer, hi, lo));
      countPub(c, topicName, 1);
    });
  },
};

/** The DPUB deferral in ms, or the original's parse/range error (checked before the body is read). */
function dpubDeferMs(c: ClientV2, raw: string): number {
  const n = parseDigits(raw);
  if (n === null) throw invalid(`DPUB could not parse timeout ${raw}`);
  // --max-defer-timeout is an extension that defaults to --max-req-timeout (docs/compatibility.md).
  const max = c.host.options.maxDeferTimeout;
  const ms = durationMs(n);
  if (ms < 0 || ms > max) throw invalid(`DPUB timeout ${n} out of range 0-${max}`);
  return ms;
}

const DPUB: CommandHandler = {
  allowedIn: 'any',
  auth: { at: 'body' },
  check(c, params) {
    topicParam('DPUB', params, 2);
    dpubDeferMs(c, params[1]!);
  },
  exec(c, params, body) {
    const topicName = params[0]!;
    const ms = dpubDeferMs(c, params[1]!);
    const topic = c.host.getTopic(topicName);
    const [hi, lo] = nowTimestamp();
    return publish(c, 'DPUB', topic, () => {
      const m = topic.newMessage(body as Buffer, hi, lo);
      m.deferMs = ms;
      topic.putMessage(m);
      countPub(c, topicName, 1);
    });
  },
};

const MPUB: CommandHandler = {
  allowedIn: 'any',
  // MPUB checks auth before reading its body (upstream nsqd/protocol_v2.go MPUB).
  auth: { at: 'line' },
  check(_c, params) {
    topicParam('MPUB', params, 1);
  },
  beforeBody(c, params) {
    // The original creates the topic here, before reading the body: it exists even if the body is bad.
    c.host.getTopic(params[0]!);
  },
  exec(c, params, bodies) {
    const topicName = params[0]!;
    const topic = c.host.getTopic(topicName);
    const list = bodies as BodyBatch;
    const [hi, lo] = nowTimestamp();
    return publish(c, 'MPUB', topic, () => {
      const done = publishBodies(topic, list, hi, lo);
      if (done === undefined) countPub(c, topicName, list.length);
      else return done.then(() => countPub(c, topicName, list.length));
    });
  },
};

/** Null prototype: a line such as `constructor` or `__proto__` must be an unknown command. */
export const COMMANDS: Record<string, CommandHandler | undefined> = Object.assign(Object.create(null) as Record<string, CommandHandler>, {
  IDENTIFY, AUTH, SUB, RDY, FIN, REQ, TOUCH, CLS, NOP, PUB, MPUB, DPUB,
});
