import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tempDir } from './daemons.js';
import * as path from 'node:path';

/**
 * Throw-away PKI for TLS tests, made with the `openssl` CLI in a temp dir: a CA, a server
 * certificate for 127.0.0.1/localhost and a client certificate signed by that CA, plus a
 * self-signed "rogue" client certificate no CA vouches for. Generated once per process.
 */
export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Self-signed client certificate (CN `rogue-client`), unknown to the CA. */
  rogueCert: string;
  rogueKey: string;
  /** Subject CN of the CA-signed client certificate. */
  clientCommonName: string;
}

let cached: TestCerts | null = null;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

// P-256 keys: quick to make, accepted by every TLS version Node speaks.
function newKey(cwd: string, file: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], cwd);
}

function signed(cwd: string, name: string, subject: string, ext: string): void {
  newKey(cwd, `${name}.key`);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], cwd);
  fs.writeFileSync(path.join(cwd, `${name}.ext`), ext);
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`],
    cwd,
  );
}

/** The certificates (created on first call). The directory is removed when the process exits. */
export function testCerts(): TestCerts {
  if (cached !== null) return cached;
  const dir = tempDir('tsnsq-certs-');
  newKey(dir, 'ca.key');
  openssl(
    ['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=tsnsq test CA', '-days', '2', '-sha256', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.pem'],
    dir,
  );
  signed(dir, 'server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n');
  signed(dir, 'client', '/CN=test-client', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  newKey(dir, 'rogue.key');
  openssl(['req', '-x509', '-new', '-key', 'rogue.key', '-subj', '/CN=rogue-client', '-days', '2', '-sha256', '-out', 'rogue.pem'], dir);
  const p = (f: string) => path.join(dir, f);
  cached = {
    dir,
    caCert: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    rogueCert: p('rogue.pem'),
    rogueKey: p('rogue.key'),
    clientCommonName: 'test-client',
  };
  return cached;
}

/** The nsqd flags that enable TLS with the test server certificate and CA. */
export function tlsFlags(c: TestCerts = testCerts()): string[] {
  return [`--tls-cert=${c.serverCert}`, `--tls-key=${c.serverKey}`, `--tls-root-ca-file=${c.caCert}`, '--https-address=127.0.0.1:0'];
}
