import { ProtocolError } from '../../protocol/errors.js';
import type { CommandHandler } from './types.js';
import { CLIENT_REGISTRATION, Producer, type PeerInfo } from '../registration-db.js';

/** `IDENTIFY` + JSON body: the peer says who it is and is listed under `client` (`/nodes`). */
export const identify: CommandHandler = {
  requires: 'unidentified',
  run(session, _params, body) {
    const { ctx } = session;
    const info = parseIdentifyBody(body!, session.remoteAddress, ctx.now());
    ctx.logger.info(
      `CLIENT(${session}): IDENTIFY Address:${info.broadcastAddress} TCP:${info.tcpPort} ` +
        `HTTP:${info.httpPort} Version:${info.version}`,
    );
    session.identified(info);
    if (ctx.db.addProducer(CLIENT_REGISTRATION, new Producer(info))) {
      ctx.logger.info(`DB: client(${session}) REGISTER category:client key: subkey:`);
    }
    return ctx.identifyResponse();
  },
};

type FieldKind = 'string' | 'int';

// The JSON keys Go's decoder maps onto PeerInfo (matched case-insensitively, like encoding/json).
// `remote_address` is accepted (and type-checked) but then overwritten with the real address.
const FIELDS: ReadonlyMap<string, [name: keyof Decoded, kind: FieldKind]> = new Map([
  ['remote_address', ['remoteAddress', 'string']],
  ['hostname', ['hostname', 'string']],
  ['broadcast_address', ['broadcastAddress', 'string']],
  ['tcp_port', ['tcpPort', 'int']],
  ['http_port', ['httpPort', 'int']],
  ['version', ['version', 'string']],
  ['topology_zone', ['topologyZone', 'string']],
  ['topology_region', ['topologyRegion', 'string']],
]);

interface Decoded {
  remoteAddress: string;
  hostname: string;
  broadcastAddress: string;
  tcpPort: number;
  httpPort: number;
  version: string;
  topologyZone: string;
  topologyRegion: string;
}

/** Go's int64 max (2^63 - 1), which as a double is 2^63. */
const INT64_MAX = 2 ** 63;

/**
 * Decodes an IDENTIFY body into the peer's info with the original's rules and error texts:
 * unknown keys ignored, `null` leaves a field empty, a wrongly typed value fails the decode,
 * and broadcast_address, tcp_port, http_port and version are required (non-empty / non-zero).
 */
export function parseIdentifyBody(body: Buffer, remoteAddress: string, now: number): PeerInfo {
  const decodeError = (cause?: unknown) => {
    const err = new ProtocolError('E_BAD_BODY', 'IDENTIFY failed to decode JSON body');
    if (cause !== undefined) err.cause = cause;
    return err;
  };
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw decodeError(e);
  }
  const d: Decoded = {
    remoteAddress: '',
    hostname: '',
    broadcastAddress: '',
    tcpPort: 0,
    httpPort: 0,
    version: '',
    topologyZone: '',
    topologyRegion: '',
  };
  if (json !== null) {
    if (typeof json !== 'object' || Array.isArray(json)) throw decodeError('body is not a JSON object');
    for (const [k, v] of Object.entries(json)) {
      const field = FIELDS.get(k) ?? FIELDS.get(k.toLowerCase());
      if (field === undefined || v === null) continue;
      const [name, kind] = field;
      if (kind === 'string') {
        if (typeof v !== 'string') throw decodeError(`${k} is not a string`);
        (d[name] as string) = v;
      } else {
        if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > INT64_MAX) {
          throw decodeError(`${k} is not an integer`);
        }
        (d[name] as number) = v;
      }
    }
  }
  if (d.broadcastAddress === '' || d.tcpPort === 0 || d.httpPort === 0 || d.version === '') {
    throw new ProtocolError('E_BAD_BODY', 'IDENTIFY missing fields');
  }
  return { ...d, id: remoteAddress, remoteAddress, lastUpdate: now };
}
