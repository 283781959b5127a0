import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Exclusive use of a data directory by one nsqd. Node has no flock(2), so a lock file holding the
 * owner's pid stands in for the original's directory flock; a lock left by a dead process (kill -9)
 * is taken over, which flock gives for free.
 *
 * A pid alone is not proof of life: after a reboot or a container restart the recorded pid may
 * belong to an unrelated process. The file therefore also records the owner's start time from
 * /proc (where there is one); a live pid with a different start time is a stale lock.
 *
 * Known limit: two daemons taking over the same stale lock at the same instant may both succeed
 * (flock would pick one); starting two nsqd on one directory at once is not a supported setup.
 */
export class DataLock {
  readonly #file: string;
  #held = false;

  constructor(dataPath: string) {
    this.#file = path.join(dataPath || '.', '.nsqd.lock');
  }

  acquire(): void {
    const dir = path.dirname(this.#file);
    if (!fs.existsSync(dir)) throw new Error(`open ${dir}: no such file or directory`);
    const owner = `${process.pid} ${processStartTime(process.pid) ?? ''}\n`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(this.#file, owner, { flag: 'wx', mode: 0o600 });
        this.#held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new Error(`cannot flock directory ${dir} - ${(err as Error).message}`);
        }
        const [pidText = '', start = ''] = readOwner(this.#file).split(/\s+/);
        const pid = Number(pidText);
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid, start)) {
          throw new Error(`cannot flock directory ${dir} - held by pid ${pid} (possibly in use by another instance of nsqd)`);
        }
        fs.rmSync(this.#file, { force: true });
      }
    }
    throw new Error(`cannot flock directory ${dir}`);
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    fs.rmSync(this.#file, { force: true });
  }
}

function readOwner(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    // Removed in between by its owner's release: stale, as far as we are concerned.
    return '';
  }
}

/** Start time of a process in clock ticks since boot (Linux /proc), or null where unknown. */
function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after "(comm)"; comm may hold spaces or parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(pid: number, recordedStart: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (recordedStart === '') return true;
  const start = processStartTime(pid);
  return start === null || start === recordedStart;
}
