/**
 * Loading a disk queue's positions at start-up (go-diskqueue `diskqueue.go` retrieveMetaData),
 * including its check for metadata that was not synced before a crash.
 */

import * as fs from 'node:fs';
import { errorCode, errorText } from './file-io.js';
import { parseMeta } from './files.js';
import type { QueueState } from './queue-state.js';

/**
 * go-diskqueue retrieveMetaData: loads the meta file into `s` and recovers from stale metadata.
 * Never throws: problems are logged, and the state keeps its zeroed positions.
 */
export function retrieveMetaData(s: QueueState): void {
  let text: string | null = null;
  try {
    text = fs.readFileSync(s.metaPath, 'latin1');
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') {
      s.log.error(`${s.prefix} failed to retrieveMetaData - ${errorText(err)}`);
    }
  }
  if (text !== null) {
    try {
      const m = parseMeta(text);
      s.depth = m.depth;
      s.readFileNum = m.readFileNum;
      s.readPos = m.readPos;
      s.writeFileNum = m.writeFileNum;
      s.writePos = m.writePos;
    } catch (err) {
      s.log.error(`${s.prefix} failed to retrieveMetaData - ${errorText(err)}`);
    }
  }
  s.nextReadFileNum = s.readFileNum;
  s.nextReadPos = s.readPos;

  // Meta not synced before a crash: the segment holds more than writePos says. Appending at
  // writePos would overwrite those records, so writes move on and the reader salvages the file
  // up to its real end. (The original skips this check when there is no meta file at all; doing
  // it then too keeps records written before the very first sync.)
  const fn = s.fileName(s.writeFileNum);
  try {
    const size = fs.statSync(fn).size;
    if (s.writePos < size) {
      s.log.warn(`${s.prefix} ${fn} metadata writePos ${s.writePos} < file size of ${size}, skipping to new file`);
      s.writeFileNum++;
      s.writePos = 0;
    }
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') {
      s.log.error(`${s.prefix} failed to retrieveMetaData - ${errorText(err)}`);
    }
  }
}
