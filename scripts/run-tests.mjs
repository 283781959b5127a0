// Runs every compiled test file under dist/test with Node's own test runner.
// Node 20's --test takes no globs, so the file list is collected here.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    // Only tests whose source still exists: tsc leaves the output of a renamed test behind.
    else if (name.endsWith('.test.js') && existsSync(p.replace(/^dist[\\/]/, '').replace(/\.js$/, '.ts'))) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = collect('dist/test', []);
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
// --test-force-exit: a test that fails half-way can leave a client's timers behind; the file's
// process must still end (its 'exit' handlers stop the daemons it started) rather than hang CI.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-force-exit', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
