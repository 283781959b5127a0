import * as http from 'node:http';
import * as net from 'node:net';
import { RawClient } from './raw-client.js';

/**
 * Talking to a daemon listening on Unix sockets: HTTP requests, readiness, a raw V2 connection.
 * Start such a daemon with `startApp(app, args, { ready: () => unixPingOk(httpSock) })`.
 */

/** One HTTP request over a Unix socket. */
export function unixRequest(socketPath: string, method: string, urlPath: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: urlPath }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** True once an HTTP server answers /ping on `socketPath`. */
export async function unixPingOk(socketPath: string): Promise<boolean> {
  try {
    return (await unixRequest(socketPath, 'GET', '/ping')).status === 200;
  } catch {
    return false;
  }
}

/** A raw V2 connection over a Unix socket (magic sent). */
export function connectUnix(socketPath: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath, () => {
      sock.off('error', reject);
      // RawClient's constructor is private to steer tests to TCP; the socket type does not matter to it.
      const c = new (RawClient as unknown as new (s: net.Socket) => RawClient)(sock);
      sock.write('  V2');
      resolve(c);
    });
    sock.once('error', reject);
  });
}
