// Directories a run writes into (--out, --checkpoint-dir), checked before the first step: a run
// that trained for an hour must not then find it cannot save.
import * as fs from 'fs';
import * as path from 'path';

/** Creates `dir` if needed and proves it writable with a probe file; errors name the flag. */
export function prepareOutputDir(dir: string, flag: string): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch {
    stat = undefined; // does not exist yet (or a parent is not a directory: mkdir says which)
  }
  if (stat && !stat.isDirectory()) throw new Error(`${flag}: ${dir} exists and is not a directory`);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EEXIST' || err.code === 'ENOTDIR' ? 'a part of the path is a file, not a directory' : err.message;
    throw new Error(`${flag}: cannot create the directory ${dir}: ${why}`);
  }
  const probe = path.join(dir, `.write-probe-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
  } catch (e) {
    throw new Error(`${flag}: ${dir} is not writable: ${(e as Error).message}`);
  } finally {
    fs.rmSync(probe, { force: true });
  }
}
