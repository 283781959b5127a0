import * as http from 'node:http';

/**
 * The tests' one HTTP client: raw requests to 127.0.0.1 with exact control over Content-Length,
 * chunked bodies and headers (fetch hides those), and no connection pooling, so a test never
 * leaves a keep-alive socket behind.
 */
export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked, split into pieces of this size. */
  chunkSize?: number;
  headers?: Record<string, string | number>;
}

/** One request; resolves with whatever status the server answers. */
export function request(port: number, method: string, path: string, opts: RequestOptions = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
    const headers: Record<string, string | number> = { ...opts.headers };
    if (body !== undefined && opts.chunkSize === undefined && headers['Content-Length'] === undefined) headers['Content-Length'] = body.length;
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
        // A server may answer before reading a body we are still sending (e.g. a lying Content-Length).
        req.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      // An early answer followed by our own destroy is not an error.
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' && req.destroyed) return;
      reject(err);
    });
    if (body === undefined) {
      req.end();
    } else if (opts.chunkSize !== undefined) {
      for (let off = 0; off < body.length; off += opts.chunkSize) req.write(body.subarray(off, off + opts.chunkSize));
      req.end();
    } else if (Number(headers['Content-Length']) !== body.length) {
      req.write(body); // the declared length is a lie on purpose; the server must answer anyway
    } else {
      req.end(body);
    }
  });
}
