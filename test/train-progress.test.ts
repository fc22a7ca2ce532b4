// The trainer's progress output (lib/train/progress.ts): a cli-progress bar on a terminal, with
// the run's lines printed above it and the bar's timer gone after done(); plain lines every
// --log-every steps otherwise; and plain lines on a terminal too when cli-progress is not installed.
import { Progress, ProgressState } from '../lib/train/progress';

// A stream that records what is written to it, a terminal or not.
function stream(tty: boolean): NodeJS.WriteStream & { text: string } {
  const s = {
    text: '',
    isTTY: tty,
    columns: 160,
    write(chunk: string | Uint8Array, cb?: unknown) {
      s.text += String(chunk);
      if (typeof cb === 'function') cb();
      return true;
    },
  };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

const state = (step: number, total = 6): ProgressState => ({ step, total, loss: 5 - step / 10, tokensPerSec: 1500, etaSeconds: total - step });
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
// The screen a terminal would show: escape sequences dropped, each \r or cursor-to-column-1 a return.
const ESC = String.fromCharCode(27);
const screen = (text: string) =>
  text
    .replace(new RegExp(`${ESC}\\[1G|\r`, 'g'), '\r')
    .replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g'), '')
    .split('\n')
    .map((line) => line.split('\r').filter(Boolean).pop() ?? '');

describe('progress', () => {
  test('not a terminal: a plain line every logEvery steps and at the end, lines of their own as they come', () => {
    const out = stream(false);
    const p = new Progress({ quiet: false, logEvery: 2, label: 'adamw', stream: out });
    p.line('header');
    for (let step = 1; step <= 5; step++) p.update(state(step, 5));
    p.line('validation');
    p.done();
    expect(out.text).toBe(
      'adamw header\n' +
        'adamw step 2/5 loss 4.800 | 1,500 tok/s | ETA 0:03\n' +
        'adamw step 4/5 loss 4.600 | 1,500 tok/s | ETA 0:01\n' +
        'adamw step 5/5 loss 4.500 | 1,500 tok/s | ETA 0:00\n' +
        'adamw validation\n',
    );
  });

  test('a terminal: a cli-progress bar, lines printed above it, its last frame kept, its timer gone after done()', () => {
    const { MultiBar } = jest.requireActual('cli-progress');
    const create = jest.spyOn(MultiBar.prototype, 'create');
    const before = timers();
    const out = stream(true);
    const p = new Progress({ quiet: false, logEvery: 1000, label: 'frugal', stream: out });
    try {
      p.line('header');
      for (let step = 1; step <= 6; step++) {
        p.update(state(step));
        if (step === 3) p.line('step 3: validation loss 4.1');
      }
      expect(timers()).toBe(before + 1); // the bar's redraw timer
      p.done();
      expect(timers()).toBe(before);
      p.done(); // twice is harmless (the trainer's finally after a normal end)
      expect(create).toHaveBeenCalledTimes(1);
    } finally {
      create.mockRestore();
    }
    expect(out.text).toContain(`${ESC}[`); // drawn in place, not line by line
    expect(screen(out.text)).toEqual([
      'frugal header',
      'frugal step 3: validation loss 4.1',
      'frugal [========================] step 6/6 loss 4.400 | 1,500 tok/s | ETA 0:00',
      '',
    ]);
  });

  test('quiet: nothing at all', () => {
    const out = stream(true);
    const p = new Progress({ quiet: true, logEvery: 1, label: 'x', stream: out });
    p.line('a');
    p.update(state(1));
    p.done();
    expect(out.text).toBe('');
  });

  test('a terminal without cli-progress installed: plain lines, after one line naming the package', () => {
    jest.isolateModules(() => {
      jest.doMock('cli-progress', () => {
        throw Object.assign(new Error("Cannot find module 'cli-progress' from 'lib/optional-dependency.ts'"), { code: 'MODULE_NOT_FOUND' });
      });
      const { Progress: Isolated } = require('../lib/train/progress') as typeof import('../lib/train/progress');
      const out = stream(true);
      const p = new Isolated({ quiet: false, logEvery: 3, label: 'sgd', stream: out });
      for (let step = 1; step <= 3; step++) p.update(state(step, 3));
      p.done();
      expect(out.text).toBe(
        "sgd (no progress bar: the package 'cli-progress' is not installed; plain lines instead)\n" +
          'sgd step 3/3 loss 4.700 | 1,500 tok/s | ETA 0:00\n',
      );
    });
    jest.dontMock('cli-progress');
  });
});
