import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Exclusive use of a data directory by one nsqd. Node has no flock(2), so a lock file holding the
 * owner's pid stands in for the original's directory flock; a lock left by a dead process (kill -9)
 * is taken over, which flock gives for free.
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
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(this.#file, String(process.pid), { flag: 'wx', mode: 0o600 });
        this.#held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const pid = Number(fs.readFileSync(this.#file, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
