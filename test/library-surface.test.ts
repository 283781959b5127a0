import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

/** The package's public entry point: what `import 'tsnsq'` gives an embedding program. */
test('the package entry exports the daemons and the codecs', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string };
  const lib = (await import(pkg.name)) as Record<string, unknown>;
  for (const name of ['Nsqd', 'Nsqlookupd', 'defaultNsqdOptions', 'defaultNsqlookupdOptions', 'Logger', 'CommandParser', 'FrameDecoder', 'LookupResponseDecoder', 'DiskQueue']) {
    assert.equal(typeof lib[name], 'function', name);
  }
});
