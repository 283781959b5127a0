import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The metadata file `nsqd.dat` (nsqd.md §8): which topics and channels exist and whether they are
 * paused. Same name and JSON shape as the original, so either daemon can take over a data dir.
 */
export interface ChannelMetadata {
  name: string;
  paused: boolean;
}
export interface TopicMetadata {
  name: string;
  paused: boolean;
  channels: ChannelMetadata[] | null;
}
export interface Metadata {
  topics: TopicMetadata[];
  version: string;
}

export const METADATA_FILE = 'nsqd.dat';

export class MetadataError extends Error {}

export function metadataPath(dataPath: string): string {
  return path.join(dataPath || '.', METADATA_FILE);
}

/** Reads the metadata file; null when absent; throws MetadataError when unparsable. */
export function readMetadata(dataPath: string): Metadata | null {
  const file = metadataPath(dataPath);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new MetadataError(`failed to read metadata from ${file} - ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new MetadataError(`failed to parse metadata in ${file} - ${(err as Error).message}`);
  }
  const obj = raw as Partial<Metadata> | null;
  const topics: TopicMetadata[] = [];
  for (const t of Array.isArray(obj?.topics) ? obj!.topics : []) {
    if (typeof t?.name !== 'string') continue;
    const channels = Array.isArray(t.channels)
      ? t.channels.filter((c) => typeof c?.name === 'string').map((c) => ({ name: c.name, paused: c.paused === true }))
      : null;
    topics.push({ name: t.name, paused: t.paused === true, channels });
  }
  return { topics, version: typeof obj?.version === 'string' ? obj.version : '' };
}

/** Writes the metadata atomically: temp file (0600), fsync, rename over nsqd.dat. */
export function writeMetadata(dataPath: string, md: Metadata): void {
  const file = metadataPath(dataPath);
  const tmp = `${file}.${Math.floor(Math.random() * 2 ** 31)}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(md));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
