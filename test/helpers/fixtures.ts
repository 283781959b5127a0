import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository's test fixtures (`test/fixtures/`), found from the compiled test file so a test
 * runs from any working directory. A missing fixture is an error, never a skip.
 */
const fixturesRoot = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

/** Absolute path of `name` under test/fixtures; throws if it is not there. */
export function fixturePath(name: string): string {
  const p = path.join(fixturesRoot, name);
  if (!fs.existsSync(p)) throw new Error(`test fixture ${p} is missing (it is part of the repository: restore test/fixtures/)`);
  return p;
}

/** The data directory written by the original nsqd 1.3.0 (see test/fixtures/README.md). */
export function originalDataDir(): string {
  return fixturePath('nsqd-1.3.0-datadir');
}

/** The fixture's MANIFEST.json, parsed. */
export function originalManifest<T>(): T {
  return JSON.parse(fs.readFileSync(path.join(originalDataDir(), 'MANIFEST.json'), 'utf8')) as T;
}
