import * as fs from 'node:fs';
import * as path from 'node:path';

const { O_RDWR, O_CREAT, O_TRUNC } = fs.constants;

/** How {@link replaceFileAtomically} stages and commits the new contents. */
export interface AtomicReplaceOptions {
  /**
   * The temp file written first, beside the target (a rename only replaces atomically within one
   * file system). Callers pick it so its name matches what the original daemon leaves behind.
   */
  tmpFile: string;
  /** Also fsync the target's directory so the rename itself survives a power failure (best effort). */
  syncDir?: boolean;
}

/**
 * Replaces `file` so a reader (or a crash) sees either the old or the new contents, never a
 * mix: write `data` (UTF-8) to a fresh 0600 temp file, fsync, close, rename over `file`. On any failure
 * the temp file is removed and the error is rethrown; `file` is then untouched.
 */
export function replaceFileAtomically(file: string, data: string, opts: AtomicReplaceOptions): void {
  const tmp = opts.tmpFile;
  const fd = fs.openSync(tmp, O_RDWR | O_CREAT | O_TRUNC, 0o600);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  if (opts.syncDir === true) syncDir(path.dirname(file));
}

/** Makes a rename in `dir` durable; best effort (not every platform can fsync a directory). */
export function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // The file content is synced; only the rename could be lost by a power failure.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
