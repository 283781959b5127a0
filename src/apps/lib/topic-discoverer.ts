/**
 * nsq_to_file's topic set (upstream `apps/nsq_to_file/topic_discoverer.go`): the `--topic`
 * list, or every lookupd topic matching `--topic-pattern`, refreshed every `--topic-refresh`.
 */
import type { Logger } from '../../lib/logger.js';
import type { ClusterInfo } from './cluster-info.js';

/** Go's regexp.MatchString for the pattern (unanchored); an invalid pattern matches nothing. */
export function topicAllowed(pattern: string, topic: string): boolean {
  if (pattern === '') return true;
  try {
    return new RegExp(pattern).test(topic);
  } catch {
    return false;
  }
}

/** Something started per topic that can be HUPed and stopped. */
export interface TopicWorker {
  hup(): void;
  stop(): Promise<void>;
}

/** Starts one worker per allowed topic, now and on every refresh. */
export class TopicDiscoverer<W extends TopicWorker> {
  readonly #workers = new Map<string, W>();
  readonly #create: (topic: string) => Promise<W>;
  readonly #log: Logger;
  readonly #pattern: string;
  #ticker: NodeJS.Timeout | null = null;
  #stopping = false;

  constructor(pattern: string, log: Logger, create: (topic: string) => Promise<W>) {
    this.#pattern = pattern;
    this.#log = log;
    this.#create = create;
  }

  /** The running workers by topic. */
  get workers(): ReadonlyMap<string, W> {
    return this.#workers;
  }

  /** Starts workers for the topics not running yet that the pattern allows. */
  async updateTopics(topics: readonly string[]): Promise<void> {
    for (const topic of topics) {
      if (this.#stopping || this.#workers.has(topic)) continue;
      if (!topicAllowed(this.#pattern, topic)) {
        this.#log.debug(`skipping topic ${topic} (doesn't match pattern ${this.#pattern})`);
        continue;
      }
      try {
        this.#workers.set(topic, await this.#create(topic));
      } catch (err) {
        this.#log.error(`couldn't create logger for new topic ${topic}: ${(err as Error).message}`);
      }
    }
  }

  /** Fixed topics, or (when `topics` is empty) lookupd discovery every `refreshMs`. */
  async run(topics: readonly string[], refreshMs: number, ci: ClusterInfo, lookupds: readonly string[]): Promise<void> {
    if (topics.length === 0) {
      this.#ticker = setInterval(() => {
        ci.getLookupdTopics(lookupds).then(
          (found) => this.updateTopics(found),
          (err: Error) => this.#log.error(`could not retrieve topic list: ${err.message}`),
        );
      }, refreshMs);
    }
    await this.updateTopics(topics);
  }

  /** SIGHUP to every worker. */
  hup(): void {
    for (const w of this.#workers.values()) w.hup();
  }

  /** Stops discovery and every worker. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#ticker) clearInterval(this.#ticker);
    await Promise.all([...this.#workers.values()].map((w) => w.stop()));
  }
}
