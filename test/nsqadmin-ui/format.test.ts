import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientHostPort, clientLocality, commafy, durationToHuman, nanoToHuman, quantileLabel, rateToHuman } from '../../src/nsqadmin/ui/src/lib/format.js';

test('commafy groups thousands and treats missing values as 0', () => {
  assert.equal(commafy(0), '0');
  assert.equal(commafy(999), '999');
  assert.equal(commafy(1000), '1,000');
  assert.equal(commafy(1234567), '1,234,567');
  assert.equal(commafy(-1234.5), '-1,234.5');
  assert.equal(commafy(undefined), '0');
  assert.equal(commafy(Number.NaN), '0');
});

test('latencies read in the largest fitting unit', () => {
  assert.equal(nanoToHuman(850), '850ns');
  assert.equal(nanoToHuman(12_340), '12.3µs');
  assert.equal(nanoToHuman(4_500_000), '4.5ms');
  assert.equal(nanoToHuman(6_936_713_457), '6.9s');
  assert.equal(nanoToHuman(undefined), '');
});

test('connection ages show the two largest units', () => {
  assert.equal(durationToHuman(45e9), '45s');
  assert.equal(durationToHuman(192e9), '3m 12s');
  assert.equal(durationToHuman((2 * 3600 + 3 * 60 + 9) * 1e9), '2h 3m');
  assert.equal(durationToHuman((4 * 86400 + 3600) * 1e9), '4d 1h');
  assert.equal(durationToHuman(-1), '');
});

test('quantiles label their percentile column', () => {
  assert.equal(quantileLabel(0.5), 'p50');
  assert.equal(quantileLabel(0.99), 'p99');
  assert.equal(quantileLabel(0.999), 'p99.9');
  assert.equal(quantileLabel(1), 'p100');
});

test('rates keep one decimal below 1000 msg/s', () => {
  assert.equal(rateToHuman(0), '0');
  assert.equal(rateToHuman(0.25), '0.3');
  assert.equal(rateToHuman(12.34), '12.3');
  assert.equal(rateToHuman(12345.6), '12,346');
  assert.equal(rateToHuman(undefined), '0');
});

test('client host is hostname plus the port of the remote address', () => {
  assert.equal(clientHostPort('worker-1', '10.0.0.5:51234'), 'worker-1:51234');
  assert.equal(clientHostPort('worker-1', '[::1]:51234'), 'worker-1:51234');
  assert.equal(clientHostPort('worker-1', ''), 'worker-1');
});

test('client locality: zone-local needs zone and region, region-local the region', () => {
  const node = { node_topology_region: 'eu', node_topology_zone: 'eu-1' };
  assert.equal(clientLocality({ ...node, topology_region: 'eu', topology_zone: 'eu-1' }), 'zone');
  assert.equal(clientLocality({ ...node, topology_region: 'eu', topology_zone: 'eu-2' }), 'region');
  assert.equal(clientLocality({ ...node, topology_region: 'us', topology_zone: 'eu-1' }), undefined);
  assert.equal(clientLocality({}), undefined);
});
