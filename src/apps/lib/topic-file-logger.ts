/**
 * One topic of nsq_to_file: a consumer feeding a FileLogger, the sync ticker, HUP and stop
 * (upstream `apps/nsq_to_file/file_logger.go` router). Messages are answered manually: FIN only
 * after the sync that made them durable.
 */
import { Consumer, type ConsumerOptions, type Message } from '../../client/index.js';
import type { Logger } from '../../lib/logger.js';
import { FileLogger, FileLoggerError, type FileLoggerOptions } from './file-logger.js';

/** A consumer plus its file, for one topic. */
export class TopicFileLogger {
  readonly topic: string;
  readonly #consumer: Consumer;
  readonly #file: FileLogger;
  readonly #ticker: NodeJS.Timeout;
  readonly #fatal: (msg: string) => never;
  #stopping = false;
  #stopped: Promise<void> | null = null;

  constructor(topic: string, channel: string, fo: FileLoggerOptions, template: string, syncIntervalMs: number, co: ConsumerOptions, log: Logger, fatal: (msg: string) => never) {
    this.topic = topic;
    this.#fatal = fatal;
    this.#file = new FileLogger(fo, topic, template, log);
    this.#consumer = new Consumer(topic, channel, co);
    this.#consumer.on('message', (m: Message) => {
      // The file logger answers: FIN after the sync that made the message durable.
      m.disableAutoResponse();
      this.#guard(() => this.#file.onMessage(m, this.#stopping || this.#consumer.isStarved()));
    });
    this.#consumer.on('error', (err: Error) => log.error(`[${topic}/${channel}] ${err.message}`));
    this.#ticker = setInterval(() => this.#guard(() => this.#file.onTick()), syncIntervalMs);
  }

  /** Connects the consumer (direct nsqd addresses and/or lookupd discovery). */
  connect(): Promise<void> {
    return this.#consumer.connect();
  }

  /** Written-but-unsynced messages and consumer counters, for tests and status. */
  get stats(): { pending: number; messages: number; rotations: number } {
    return { pending: this.#file.pending, messages: this.#file.stats.messages, rotations: this.#file.stats.rotations };
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof FileLoggerError) this.#fatal(err.message);
      throw err;
    }
  }

  /** SIGHUP: sync and close the current file. */
  hup(): void {
    this.#guard(() => this.#file.onHup());
  }

  /**
   * SIGINT/SIGTERM: sync what is written (finishing it), stop the consumer while syncing every
   * message still arriving, then sync and close the file (moving it to the output dir).
   */
  stop(): Promise<void> {
    if (this.#stopped) return this.#stopped;
    this.#stopping = true;
    clearInterval(this.#ticker);
    this.#guard(() => this.#file.flush());
    this.#stopped = this.#consumer.close().then(() => this.#guard(() => this.#file.close()));
    return this.#stopped;
  }
}
