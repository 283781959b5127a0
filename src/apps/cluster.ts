#!/usr/bin/env node
/**
 * `npm start`: a local NSQ cluster in one process — nsqlookupd on 4160/4161, an nsqd on
 * 4150/4151 registered with it, and nsqadmin on 4171 reading the cluster through the lookupd;
 * data under ./nsqdata (or $NSQ_DATA). Prints the addresses, nsqd first, then nsqlookupd, then
 * nsqadmin's URL. SIGINT/SIGTERM shut all down gracefully (messages are flushed to disk).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '../lib/logger.js';
import { Nsqadmin } from '../nsqadmin/nsqadmin.js';
import { defaultNsqadminOptions } from '../nsqadmin/options.js';
import { Nsqd } from '../nsqd/nsqd.js';
import { defaultNsqdOptions } from '../nsqd/options.js';
import { Nsqlookupd } from '../nsqlookupd/nsqlookupd.js';
import { defaultNsqlookupdOptions } from '../nsqlookupd/options.js';

async function main(): Promise<void> {
  const dataRoot = path.resolve(process.env.NSQ_DATA ?? 'nsqdata');
  const nsqdData = path.join(dataRoot, 'nsqd');
  fs.mkdirSync(nsqdData, { recursive: true });
  const host = process.env.NSQ_HOST ?? '127.0.0.1';

  const lo = defaultNsqlookupdOptions();
  lo.tcpAddress = `${host}:4160`;
  lo.httpAddress = `${host}:4161`;
  lo.broadcastAddress = host;
  const lookupd = new Nsqlookupd(lo, new Logger('[nsqlookupd] ', 'warn'));

  const o = defaultNsqdOptions();
  o.tcpAddress = `${host}:4150`;
  o.httpAddress = `${host}:4151`;
  o.httpsAddress = '';
  o.broadcastAddress = host;
  o.dataPath = nsqdData;
  o.lookupdTcpAddresses = [`${host}:4160`];
  const nsqd = new Nsqd(o, new Logger('[nsqd] ', 'warn'));

  const ao = defaultNsqadminOptions();
  ao.httpAddress = `${host}:4171`;
  ao.nsqlookupdHttpAddresses = [`${host}:4161`];
  const admin = new Nsqadmin(ao, new Logger('[nsqadmin] ', 'warn'));

  try {
    await lookupd.start();
    await nsqd.start();
    await admin.start();
  } catch (err) {
    process.stderr.write(`failed to start the local cluster: ${(err as Error).message}\n`);
    process.stderr.write('Is another NSQ already using ports 4150/4151/4160/4161/4171? Stop it or set NSQ_HOST.\n');
    await admin.close().catch(() => {});
    await nsqd.close().catch(() => {});
    await lookupd.close().catch(() => {});
    process.exit(1);
  }
  const l = lookupd.tcpAddress();
  const lh = lookupd.httpAddress();
  process.stdout.write(
    [
      `nsqd        tcp://${host}:${nsqd.tcpPort()}  http://${host}:${nsqd.httpPort()}  (data: ${nsqdData})`,
      `nsqlookupd  tcp://${l.host}:${l.port}  http://${lh.host}:${lh.port}`,
      `nsqadmin    http://${host}:${admin.httpPort()}/`,
      'Ctrl-C stops the cluster; queued messages are kept on disk.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void admin
      .close()
      .then(() => nsqd.close())
      .then(() => lookupd.close())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
