import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Committable } from '../diskqueue/group-commit.js';
import { replaceFileAtomically } from '../lib/atomic-file.js';

/**
 * The metadata file `nsqd.dat` (docs/disk-format.md, nsqd.dat): which topics and channels exist and whether they are
 * paused. Same name and JSON bytes as the original, so either daemon can take over a data dir.
 */
export interface ChannelMetadata {
  name: string;
  paused: boolean;
  /** Queue-extension settings (docs/extensions.md); an extra key the original's decoder ignores. */
  extensions?: unknown;
}
export interface TopicMetadata {
  name: string;
  paused: boolean;
  channels: ChannelMetadata[] | null;
  extensions?: unknown;
}
export interface Metadata {
  topics: TopicMetadata[];
  version: string;
}

export const METADATA_FILE = 'nsqd.dat';

/** nsqd.dat exists but cannot be read or decoded; start-up must stop (the original exits). */
export class MetadataError extends Error {}

export function metadataPath(dataPath: string): string {
  return path.join(dataPath || '.', METADATA_FILE);
}

/** Reads the metadata file; null when absent; throws MetadataError when unreadable or undecodable. */
export function readMetadata(dataPath: string): Metadata | null {
  const file = metadataPath(dataPath);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new MetadataError(`failed to read metadata from ${file} - ${(err as Error).message}`);
  }
  try {
    return decodeMetadata(text);
  } catch (err) {
    throw new MetadataError(`failed to parse metadata in ${file} - ${(err as Error).message}`);
  }
}

/**
 * Decodes nsqd.dat like Go's json.Unmarshal into the original's structs: `null` anywhere means the
 * zero value, unknown keys are ignored, and a value of the wrong JSON type is an error. Being strict
 * matters: start-up rewrites the file right after loading, so a silently skipped entry would be
 * dropped from the topology for good.
 */
export function decodeMetadata(text: string): Metadata {
  const raw: unknown = JSON.parse(text);
  const top = expectObject(raw, 'Go value of type nsqd.Metadata');
  const topics: TopicMetadata[] = [];
  for (const t of expectArray(top['topics'], 'Go struct field Metadata.topics of type []nsqd.TopicMetadata')) {
    const to = expectObject(t, 'Go struct field Metadata.topics of type nsqd.TopicMetadata');
    const channelsRaw = expectArray(to['channels'], 'Go struct field TopicMetadata.topics.channels of type []nsqd.ChannelMetadata');
    const channels = channelsRaw.map((c) => {
      const co = expectObject(c, 'Go struct field TopicMetadata.topics.channels of type nsqd.ChannelMetadata');
      return withExtensions(co, {
        name: expectString(co['name'], 'Go struct field ChannelMetadata.topics.channels.name of type string'),
        paused: expectBool(co['paused'], 'Go struct field ChannelMetadata.topics.channels.paused of type bool'),
      });
    });
    topics.push(withExtensions(to, {
      name: expectString(to['name'], 'Go struct field TopicMetadata.topics.name of type string'),
      paused: expectBool(to['paused'], 'Go struct field TopicMetadata.topics.paused of type bool'),
      channels: to['channels'] === null || to['channels'] === undefined ? null : channels,
    }));
  }
  return { topics, version: expectString(top['version'], 'Go struct field Metadata.version of type string') };
}

/** Keeps the `extensions` key of a decoded object, when present. */
function withExtensions<T extends object>(raw: Record<string, unknown>, md: T): T & { extensions?: unknown } {
  return raw['extensions'] === undefined ? md : { ...md, extensions: raw['extensions'] };
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v; // number, string, boolean
}

function typeError(v: unknown, target: string): Error {
  return new Error(`json: cannot unmarshal ${jsonKind(v)} into ${target}`);
}

function expectObject(v: unknown, target: string): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw typeError(v, target);
  return v as Record<string, unknown>;
}

function expectArray(v: unknown, target: string): unknown[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw typeError(v, target);
  return v;
}

function expectString(v: unknown, target: string): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') throw typeError(v, target);
  return v;
}

function expectBool(v: unknown, target: string): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v !== 'boolean') throw typeError(v, target);
  return v;
}

/** The file's bytes as Go's json.Marshal writes them: empty lists are `null` (nil slices). */
export function encodeMetadata(md: Metadata): string {
  return JSON.stringify({
    topics: md.topics.length === 0 ? null : md.topics.map((t) => ({
      name: t.name,
      paused: t.paused,
      channels: t.channels === null || t.channels.length === 0 ? null : t.channels.map((c) => ({ name: c.name, paused: c.paused, extensions: c.extensions })),
      extensions: t.extensions,
    })),
    version: md.version,
  });
}

function tempMetadataPath(file: string): string {
  return `${file}.${Math.floor(Math.random() * 2 ** 31)}.tmp`;
}

/** Where MetadataFile logs (nsqd's logger). */
export interface MetadataLog {
  info(m: string): void;
  error(m: string): void;
}

/**
 * nsqd.dat as a group-commit participant: the daemon marks it dirty when topics or channels
 * change, and the next commit writes it with the same atomic replace as writeMetadata, the
 * writes and fsyncs in the thread pool instead of the event loop (the original persists it from
 * its own goroutine too). Durable publishes wait for the same commit, so a topic's first
 * acknowledged message is never on disk without the topic in nsqd.dat.
 */
export class MetadataFile implements Committable {
  readonly name = METADATA_FILE;
  readonly #file: string;
  readonly #snapshot: () => Metadata;
  readonly #log: MetadataLog;
  #gen = 0;

  /** `snapshot` gives the topology to persist. */
  constructor(dataPath: string, snapshot: () => Metadata, log: MetadataLog) {
    this.#file = metadataPath(dataPath);
    this.#snapshot = snapshot;
    this.#log = log;
  }

  /** Synchronous atomic write (start-up and shutdown); a commit still in flight will not replace it. */
  writeNow(): void {
    this.#gen++;
    this.#log.info(`NSQ: persisting topic/channel metadata to ${this.#file}`);
    replaceFileAtomically(this.#file, encodeMetadata(this.#snapshot()), { tmpFile: tempMetadataPath(this.#file), syncDir: true });
  }

  commit(): Promise<Error | null> {
    const gen = ++this.#gen;
    this.#log.info(`NSQ: persisting topic/channel metadata to ${this.#file}`);
    const data = encodeMetadata(this.#snapshot());
    const tmp = tempMetadataPath(this.#file);
    const dir = path.dirname(this.#file);
    const write = async (): Promise<void> => {
      const h = await fs.promises.open(tmp, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o600);
      try {
        await h.writeFile(data);
        await h.sync();
      } finally {
        await h.close();
      }
    };
    return write()
      .then(async () => {
        // Renamed on the event loop: a newer write made meanwhile is never replaced by this one.
        if (gen !== this.#gen) {
          await fs.promises.rm(tmp, { force: true });
          return null;
        }
        fs.renameSync(tmp, this.#file);
        const d = await fs.promises.open(dir, 'r').catch(() => null);
        if (d !== null) await d.sync().catch(() => undefined).finally(() => d.close());
        return null;
      })
      .catch(async (err: unknown) => {
        await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
        const e = err instanceof Error ? err : new Error(String(err));
        this.#log.error(`failed to persist metadata - ${e.message}`);
        return e;
      });
  }
}
