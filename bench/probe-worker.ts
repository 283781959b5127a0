/**
 * The responsiveness probe's own thread (see responsiveness.ts): PUB round trips on one
 * connection, back to back, until told to stop; then posts every round trip's duration. Being a
 * worker, its timings do not include the main thread's work of sending the heavy inputs or that
 * thread's garbage collections.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BenchConn } from './bench-conn.js';

const port = (workerData as { port: number }).port;
const cmd = Buffer.from('PUB responsive_probe\n\x00\x00\x00\x01p', 'latin1');
let stop = false;
parentPort!.once('message', () => {
  stop = true;
});

const c = await BenchConn.connect(port);
parentPort!.postMessage('ready');
const lat: number[] = [];
while (!stop) {
  const s = performance.now();
  await c.send(cmd);
  lat.push(performance.now() - s);
}
c.close();
parentPort!.postMessage(lat);
