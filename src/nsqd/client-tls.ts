import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import { ProtocolError } from '../protocol/errors.js';

/** TLS client-certificate policy (--tls-client-auth-policy): '', 'require' or 'require-verify'. */
export type TlsClientAuthPolicy = string;

const TLS_HANDSHAKE_TIMEOUT = 5000;

/** The server side of TLS over an accepted socket, asking for a client certificate per `policy`. */
export function wrapTls(raw: Socket, ctx: tls.SecureContext, policy: TlsClientAuthPolicy): tls.TLSSocket {
  return new tls.TLSSocket(raw, {
    isServer: true,
    secureContext: ctx,
    requestCert: policy === 'require' || policy === 'require-verify',
    rejectUnauthorized: policy === 'require-verify',
  });
}

/**
 * Waits for the handshake (upstream's 5 s deadline) and applies the certificate policy; fails
 * with the `E_IDENTIFY_FAILED` the original sends (docs/protocol.md, IDENTIFY).
 */
export async function tlsHandshake(sock: tls.TLSSocket, policy: TlsClientAuthPolicy): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const fail = (text: string) => {
      clearTimeout(timer);
      reject(new ProtocolError('E_IDENTIFY_FAILED', `IDENTIFY failed ${text}`));
    };
    // Nothing can be sent to a peer that never finished the handshake, and a graceful end
    // would wait for it forever: drop the connection.
    const timer = setTimeout(() => {
      sock.destroy();
      fail('TLS handshake timeout');
    }, TLS_HANDSHAKE_TIMEOUT);
    sock.once('secure', () => {
      clearTimeout(timer);
      resolve();
    });
    sock.once('error', (err) => fail(err.message));
    sock.once('close', () => fail('connection closed during TLS handshake'));
  });
  // A standalone TLSSocket does not enforce rejectUnauthorized the way tls.Server does: a
  // certificate that fails verification still completes the handshake, so check it here.
  if (policy === 'require-verify') {
    const err = peerVerifyError(sock);
    if (err !== null) throw new ProtocolError('E_IDENTIFY_FAILED', `IDENTIFY failed tls: failed to verify certificate: ${err.message}`);
  }
  if (policy === 'require' && !sock.getPeerCertificate()?.subject) {
    throw new ProtocolError('E_IDENTIFY_FAILED', 'IDENTIFY failed tls: client didn\'t provide a certificate');
  }
}

/**
 * OpenSSL's verdict on the peer's certificate chain against the context's CA store. Node applies
 * it (`authorized`, rejectUnauthorized) only to sockets a tls.Server made; a socket wrapped by
 * hand asks its handle, as tls.Server does internally. Fails closed if that is unavailable.
 */
function peerVerifyError(sock: tls.TLSSocket): Error | null {
  const handle = (sock as unknown as { _handle?: { verifyError?: () => Error | null | undefined } })._handle;
  if (typeof handle?.verifyError !== 'function') return new Error('verification unavailable');
  return handle.verifyError() ?? null;
}
