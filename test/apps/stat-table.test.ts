import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerDue, statHeader, statRow, type ChannelCounters } from '../../src/apps/lib/stat-table.js';
import { addCounters, channelFromStats } from '../../src/apps/lib/cluster-info.js';

const zero: ChannelCounters = {
  depth: 0, memoryDepth: 0, backendDepth: 0, inFlightCount: 0, deferredCount: 0,
  requeueCount: 0, timeoutCount: 0, messageCount: 0, clientCount: 0,
};

test('header is the original two lines', () => {
  assert.equal(
    statHeader(),
    '------rate------+----------------depth----------------+--------------metadata---------------\n' +
      'ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients\n',
  );
  assert.deepEqual([0, 1, 24, 25, 50].map(headerDue), [true, false, false, true, true]);
});

test('row widths and rates (truncated per second)', () => {
  const cur = { ...zero, depth: 7, memoryDepth: 5, backendDepth: 2, inFlightCount: 3, deferredCount: 1, requeueCount: 4, timeoutCount: 2, messageCount: 21, clientCount: 1 };
  assert.equal(statRow(zero, cur, 2000), '     10       7 |       7       5       2     3     1 |       4       2           21       1\n');
  assert.equal(statRow({ ...zero, messageCount: 1 }, { ...zero, messageCount: 1 }, 2000), '      0       0 |       0       0       0     0     0 |       0       0            1       0\n');
  // Go's %7d does not truncate wider numbers.
  assert.ok(statRow(zero, { ...zero, depth: 123456789 }, 1000).startsWith('      0 -123456789 | 123456789       0 '));
});

test('channel counters from /stats, summed over nodes', () => {
  const stats = {
    topics: [
      { topic_name: 'other', channels: [{ channel_name: 'c', depth: 100 }] },
      {
        topic_name: 't',
        channels: [
          { channel_name: 'x', depth: 1 },
          { channel_name: 'c', depth: 5, backend_depth: 2, in_flight_count: 1, deferred_count: 0, requeue_count: 3, timeout_count: 1, message_count: 9, client_count: 2, clients: null },
        ],
      },
    ],
  };
  const c = channelFromStats(stats, 't', 'c');
  assert.deepEqual(c, { depth: 5, memoryDepth: 3, backendDepth: 2, inFlightCount: 1, deferredCount: 0, requeueCount: 3, timeoutCount: 1, messageCount: 9, clientCount: 2 });
  assert.equal(channelFromStats(stats, 't', 'missing'), undefined);
  assert.equal(channelFromStats({}, 't', 'c'), undefined);
  assert.equal(addCounters(c!, c!).messageCount, 18);
});
