// One run at a time per --checkpoint-dir: two runs saving into one directory would remove each
// other's temporaries and switch LATEST under each other. The lock is a file holding the owner's
// PID, created atomically (O_EXCL); a lock whose PID no longer runs (a killed run) is taken over.
import * as fs from 'fs';
import * as path from 'path';

export const LOCK_FILE = '.lock';

/** Whether a process with this PID runs (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): number | null {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/**
 * Takes the lock of `dir` (which exists) for this process; returns the function that releases it.
 * A live owner (this process included: a second run in it) is refused naming its PID.
 */
export function lockCheckpointDir(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      try {
        fs.writeFileSync(fd, `${process.pid}\n`);
      } finally {
        fs.closeSync(fd);
      }
      return () => {
        // Only our own lock: never one a later run took over.
        if (readOwner(file) === process.pid) fs.rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`--checkpoint-dir: cannot create the lock ${file}: ${(e as Error).message}`);
    }
    const owner = readOwner(file);
    // An empty or unreadable lock may be one being written this instant: look again once.
    if (owner !== null && processAlive(owner) || (owner === null && attempt === 0)) {
      if (owner === null) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        continue;
      }
      throw new Error(`--checkpoint-dir ${dir} is in use by PID ${owner} (another run holds the lock ${file}); wait for it or choose another directory`);
    }
    if (attempt >= 2) throw new Error(`--checkpoint-dir ${dir}: cannot take over the stale lock ${file} (another run keeps taking it)`);
    fs.rmSync(file, { force: true }); // its owner is gone
  }
}
