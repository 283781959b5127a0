/**
 * The daemon's side of `--durable-inflight` (docs/extensions.md): opens the in-flight journal of
 * each durable channel as it is created and replays what a previous run left in it. With the
 * flag, replayed deferred messages go back to the channel's deferred set with their deadline and
 * in-flight ones are deferred until now (redelivered at the next queue scan, attempts kept).
 * Without it, a journal left by a run with the flag is moved into the channel's disk queue in
 * the original's format and removed, so turning the flag off loses nothing (deferred messages
 * then lose their deadline, as the original's shutdown flush does).
 */

import type { BackendQueue } from '../diskqueue/backend-queue.js';
import type { GroupCommit } from '../diskqueue/group-commit.js';
import type { WriteBatch } from '../diskqueue/write-batch.js';
import type { Logger } from '../lib/logger.js';
import type { Message } from '../protocol/message.js';
import type { NsqdOptions } from './options.js';
import { KIND_DEFERRED, type JournalReplay } from './inflight-journal-format.js';
import { InflightJournal, journalFileName, type LiveMessages, readJournal, removeJournal } from './inflight-journal.js';

/** A durable channel as its journal sees it. */
export interface JournaledChannel {
  readonly topicName: string;
  readonly name: string;
  /** Holds a replayed message deferred until `deadline` (epoch ms). */
  restoreDeferred(m: Message, deadline: number): void;
  /** Visits the channel's in-flight and deferred messages (journal rewrites). */
  readonly journalLive: LiveMessages;
}

/** What the journals need from the daemon. */
export interface InflightJournalsHost {
  /** `durableInflight` is the flag; `syncEvery` 1 makes every journal write fsynced with the group commit. */
  readonly options: Pick<NsqdOptions, 'durableInflight' | 'dataPath' | 'maxMsgSize' | 'syncEvery'>;
  readonly logger: Logger;
  readonly writeBatch: WriteBatch;
  readonly groupCommit: GroupCommit;
  now(): number;
}

/** Opens (and replays) channels' in-flight journals for one nsqd. */
export class InflightJournals {
  readonly #host: InflightJournalsHost;

  constructor(host: InflightJournalsHost) {
    this.#host = host;
  }

  /**
   * Called by a new durable channel: replays its journal if one is left, and returns the journal
   * to write to, or null without the flag. Throws UnsupportedJournalError for a journal of
   * another format, rather than overwrite it.
   */
  open(ch: JournaledChannel, backend: BackendQueue): InflightJournal | null {
    const o = this.#host.options;
    const { logger, writeBatch, groupCommit } = this.#host;
    const queueName = `${ch.topicName}:${ch.name}`;
    const file = journalFileName(o.dataPath || '.', queueName);
    const replay = readJournal(file, o.maxMsgSize);
    if (replay !== null && replay.damage !== null) {
      logger.warn(`CHANNEL(${ch.name}): in-flight journal ${file}: ${replay.damage}, ignoring its last ${replay.damagedBytes} bytes`);
    }
    if (!o.durableInflight) {
      if (replay !== null) this.#moveToBackend(ch, file, replay, backend);
      return null;
    }
    const journal = new InflightJournal({
      file,
      queueName,
      logger,
      writeBatch,
      groupCommit: o.syncEvery === 1 ? groupCommit : null,
      live: ch.journalLive,
    });
    // A rewrite cut by a crash leaves its temporary file; the journal itself is whole.
    removeJournal(`${file}.tmp`, logger);
    if (replay === null) return journal;
    const now = this.#host.now();
    let deferred = 0;
    for (const e of replay.entries) {
      if (e.kind === KIND_DEFERRED) deferred++;
      // An in-flight message's consumer is gone: it is due again now.
      ch.restoreDeferred(e.message, e.kind === KIND_DEFERRED ? e.deadline : now);
    }
    if (replay.entries.length === 0) {
      removeJournal(file, logger);
      return journal;
    }
    logger.info(
      `CHANNEL(${ch.name}): restored ${replay.entries.length - deferred} in-flight and ${deferred} deferred messages from the in-flight journal`,
    );
    // A fresh file holding just the restored state: the replayed history is not kept growing.
    journal.compact(true);
    return journal;
  }

  /** Without the flag: the journal's messages go to the channel's disk queue, then it is removed. */
  #moveToBackend(ch: JournaledChannel, file: string, replay: JournalReplay, backend: BackendQueue): void {
    const { logger, writeBatch } = this.#host;
    let failed = 0;
    for (const e of replay.entries) {
      try {
        backend.putFrom(e.message);
      } catch (err) {
        failed++;
        logger.error(`CHANNEL(${ch.name}): failed to write message to backend - ${(err as Error).message}`);
      }
    }
    if (writeBatch.flush() !== null) failed++;
    if (failed !== 0) {
      // Kept for the next start: what was written may then be delivered twice, nothing is lost.
      logger.error(`CHANNEL(${ch.name}): in-flight journal ${file} kept - its messages could not all be written to the disk queue`);
      return;
    }
    if (replay.entries.length !== 0) {
      logger.info(
        `CHANNEL(${ch.name}): moved ${replay.entries.length} messages from the in-flight journal to the disk queue (--durable-inflight is off)`,
      );
    }
    removeJournal(file, logger);
  }
}
