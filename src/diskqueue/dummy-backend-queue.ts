import type { BackendQueue, RecordSource } from './backend-queue.js';

/**
 * The backend of ephemeral topics and channels: nothing is stored, so memory-queue overflow is
 * silently dropped (upstream nsqd/topic.go: ephemeral overflow is lost by design).
 */
export class DummyBackendQueue implements BackendQueue {
  put(_data: Uint8Array): void {}
  putFrom(_src: RecordSource): void {}
  peek(): Buffer | null {
    return null;
  }
  advance(): void {}
  depth(): number {
    return 0;
  }
  empty(): void {}
  close(): void {}
  delete(): void {}
}
