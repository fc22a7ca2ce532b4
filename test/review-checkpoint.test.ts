// An outside review's attacks on the checkpoint code (issue 11 items 13, 15, 16, 17), each written
// as the behaviour a user may expect: a clear refusal naming the file or field, or a correct
// resume; never a hang, a silent load of wrong data, a deleted user file or a good checkpoint
// destroyed. Several of these fail today; the report on branch rev-ckpt lists which.
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import type * as FS from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AdamW, BAdam, decodeSafetensors, encodeSafetensors, Frugal, Tensor } from '../lib';
import { modelConfig } from '../lib/model/config';
import { LlamaModel } from '../lib/model/llama';
import { openCheckpoint, restoreCheckpoint, saveCheckpoint } from '../lib/train/checkpoint';
import { OptimizerSet } from '../lib/train/optimizers';
import { TrainOptions } from '../lib/train/options';
import { train } from '../lib/train/trainer';
import { ChildScripts, compileChildScripts } from './helpers/child-scripts';
import { microRun, stepLosses as losses } from './helpers/seeded';

// The real module object (not an import wrapper), so that spies reach the fs calls lib/ makes.
const fs: typeof FS = require('fs');

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-review-ckpt-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function micro(name: string, extra: Partial<TrainOptions>): TrainOptions {
  return microRun(path.join(root, name, 'out'), { optimizer: 'adamw', steps: 2, ...extra });
}

/** Runs train() and returns the error it threw (or null) and how many steps it ran. */
function attempt(o: TrainOptions): { error: Error | null; steps: number[] } {
  const steps: number[] = [];
  try {
    train(o, { onStep: (s) => steps.push(s) });
    return { error: null, steps };
  } catch (e) {
    return { error: e as Error, steps };
  }
}

function trainedOptimizer(): { file: string; bytes: Buffer } {
  const params = [Tensor.randn([6, 4], { seed: 1 })];
  const opt = new AdamW(params, { lr: 0.01 });
  params[0].grad = Tensor.randn([6, 4], { seed: 2 });
  opt.step();
  const file = path.join(root, `adamw-${Math.random().toString(36).slice(2)}.safetensors`);
  opt.save(file);
  opt.dispose();
  return { file, bytes: fs.readFileSync(file) };
}

describe('safetensors: names that are Object.prototype keys', () => {
  test("a tensor named '__proto__' is refused by encodeSafetensors or round-trips", () => {
    const t = { dtype: 'F32' as const, shape: [1], data: new Float32Array([1]) };
    let encoded: Buffer;
    try {
      encoded = encodeSafetensors([['__proto__', t]]);
    } catch (e) {
      expect((e as Error).message).toMatch(/__proto__/);
      return;
    }
    // Accepted: then what was written must read back (today the header loses the entry and the
    // file is refused as "4 bytes after the last tensor").
    expect([...decodeSafetensors(encoded).tensors.keys()]).toEqual(['__proto__']);
  });

  test("metadata key '__proto__' is refused or round-trips, never dropped silently", () => {
    const meta = JSON.parse('{"__proto__": "x", "a": "b"}') as Record<string, string>;
    let encoded: Buffer;
    try {
      encoded = encodeSafetensors([], meta);
    } catch (e) {
      expect((e as Error).message).toMatch(/__proto__/);
      return;
    }
    const back = decodeSafetensors(encoded).metadata;
    expect(Object.prototype.hasOwnProperty.call(back, '__proto__') && back['__proto__']).toBe('x');
  });
});

describe('optimizer checkpoint: the checksum cannot be switched off by damage', () => {
  test('one flipped bit in the checksum key plus one in the data is refused', () => {
    const { file, bytes } = trainedOptimizer();
    const key = Buffer.from('frugal.crc32');
    const at = bytes.indexOf(key);
    expect(at).toBeGreaterThan(0);
    const damaged = Buffer.from(bytes);
    damaged[at + key.length - 1] ^= 1; // "frugal.crc33": still valid JSON, no checksum any more
    damaged[damaged.length - 4] ^= 1; // lowest mantissa bit of the last element: finite, >= 0
    const bad = file.replace(/\.safetensors$/, '-bad.safetensors');
    fs.writeFileSync(bad, damaged);
    const opt = new AdamW([Tensor.randn([6, 4], { seed: 1 })], { lr: 0.01 });
    // An optimizer file of this format always has its checksum (or the loader knows the keys it
    // writes): a file with an unknown key instead must not load different numbers.
    expect(() => opt.load(bad)).toThrow(new RegExp(bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    opt.dispose();
  });
});

describe('optimizer state values outside their domain', () => {
  test('an all-zero xoshiro RNG state (it would draw 0 forever) is refused', () => {
    const ps = [Tensor.randn([4, 4], { seed: 1 }), Tensor.randn([4, 4], { seed: 2 }), Tensor.randn([4, 4], { seed: 3 })];
    const opt = new BAdam([[ps[0]], [ps[1]], [ps[2]]], { lr: 0.01, switchEvery: 1, blockOrder: 'random', seed: 5 });
    const sd = opt.stateDict();
    sd.groups.forEach((g) => g.native.forEach((n) => (n.rng = ['0', '0', '0', '0'])));
    expect(() => opt.loadStateDict(sd)).toThrow(/rng/i);
    opt.dispose();
  });

  test('counters with stateStep beyond step are refused', () => {
    const ps = [Tensor.randn([8, 6], { seed: 1 })];
    const opt = new Frugal(ps, { lr: 0.01, selection: 'rows', density: 0.5, updateGap: 2, seed: 1 });
    for (let t = 0; t < 3; t++) {
      ps[0].grad = Tensor.randn([8, 6], { seed: 100 + t });
      opt.step();
    }
    const sd = opt.stateDict();
    sd.params[0].counters.stateStep = sd.params[0].counters.step + 100;
    expect(() => opt.loadStateDict(sd)).toThrow(/stateStep/);
    opt.dispose();
  });
});

describe('load() of a path that is not a regular file', () => {
  let scripts: ChildScripts;
  beforeAll(() => {
    scripts = compileChildScripts();
  });
  afterAll(() => scripts?.remove());

  test('a FIFO is refused promptly (it would block like load(0) did)', async () => {
    const fifo = path.join(root, 'a-fifo');
    await new Promise<void>((resolve, reject) => {
      const p = spawn('mkfifo', [fifo]);
      p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mkfifo exited ${code}`))));
    });
    const lib = scripts.script('lib/index.ts');
    const code =
      `const L = require(${JSON.stringify(lib)});` +
      `const o = new L.AdamW([L.Tensor.randn([6, 4], { seed: 1 })], { lr: 0.01 });` +
      `try { o.load(${JSON.stringify(fifo)}); console.log('LOADED'); } catch (e) { console.log('REFUSED: ' + e.message); }`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_c, s) => resolve(s)));
    clearTimeout(timer);
    expect({ killedAfter10s: signal === 'SIGKILL', out: out.trim() }).toEqual({ killedAfter10s: false, out: expect.stringMatching(/^REFUSED: .*a-fifo/) });
  }, 30000);
});

describe('training checkpoints and the files around them', () => {
  test("a user's copy of a checkpoint ('step-00000002-best') and other files survive the next save", () => {
    const ck = path.join(root, 'user-copy');
    losses(micro('user-copy', { checkpointDir: ck }));
    fs.cpSync(path.join(ck, 'step-00000002'), path.join(ck, 'step-00000002-best'), { recursive: true });
    fs.writeFileSync(path.join(ck, '.partial-notes.txt'), 'mine');
    losses(micro('user-copy', { checkpointDir: ck, steps: 3, resume: true }));
    expect(fs.existsSync(path.join(ck, 'step-00000002-best', 'model.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(ck, '.partial-notes.txt'))).toBe(true);
  });

  test('a run without --resume into a directory holding a checkpoint refuses, or keeps that checkpoint', () => {
    const ck = path.join(root, 'forgot-resume');
    losses(micro('forgot-resume', { checkpointDir: ck, steps: 3 }));
    const { error, steps } = attempt(micro('forgot-resume-2', { checkpointDir: ck, steps: 2 }));
    const kept = fs.existsSync(path.join(ck, 'step-00000003', 'model.safetensors'));
    const refusedUpFront = error !== null && /--resume/.test(error.message) && steps.length === 0;
    expect({ kept, refusedUpFront, error: error?.message ?? null }).toEqual(expect.objectContaining(kept ? { kept } : { refusedUpFront: true }));
  });

  describe('a resume with options the checkpoint stores is refused or honours them', () => {
    const ck0 = path.join(root, 'changed-base');
    let unchanged: number[];
    beforeAll(() => {
      losses(micro('changed-base', { checkpointDir: ck0 }));
      const ck = path.join(root, 'changed-same');
      fs.cpSync(ck0, ck, { recursive: true });
      unchanged = losses(micro('changed-same', { checkpointDir: ck, steps: 4, resume: true }));
    });
    const cases: [string, Partial<TrainOptions>, RegExp][] = [
      ['--weight-decay 0.5', { weightDecay: 0.5 }, /weight.?decay/i],
      ['--max-grad-norm 0.001', { maxGradNorm: 0.001 }, /max.?grad.?norm/i],
      ['--opt betas=0.5,0.5', { optimizerOptions: { betas: [0.5, 0.5] } }, /betas/],
    ];
    test.each(cases)('%s', (label, extra, names) => {
      const name = `changed-${label.replace(/\W+/g, '-')}`;
      const ck = path.join(root, name);
      fs.cpSync(ck0, ck, { recursive: true });
      const steps: number[] = [];
      const got: number[] = [];
      let error: Error | null = null;
      try {
        train(micro(name, { checkpointDir: ck, steps: 4, resume: true, ...extra }), { onStep: (s, l) => (steps.push(s), got.push(l)) });
      } catch (e) {
        error = e as Error;
      }
      if (error) {
        expect(error.message).toMatch(names);
        expect(steps).toEqual([]);
      } else {
        // Honoured: the run cannot be the same as the unchanged resume (today it is, bit for bit).
        expect(got).not.toEqual(unchanged);
      }
    });
  });

  test('a checkpoint directory whose files would exceed PATH_MAX is refused before the first step', () => {
    let dir = path.join(root, 'long');
    while (dir.length + 201 < 4060) dir = path.join(dir, 'x'.repeat(200));
    dir = path.join(dir, 'y'.repeat(4060 - dir.length - 1));
    fs.mkdirSync(dir, { recursive: true });
    const { error, steps } = attempt(micro('long', { checkpointDir: dir }));
    if (error) {
      expect(error.message).toMatch(/--checkpoint-dir/);
      expect(steps).toEqual([]);
    } else {
      expect(fs.existsSync(path.join(dir, 'LATEST'))).toBe(true);
    }
  });

  test('a full disk during a save: the error names the checkpoint, the previous one still resumes', () => {
    const ck = path.join(root, 'full-disk');
    losses(micro('full-disk', { checkpointDir: ck }));
    const real = fs.writeFileSync;
    let full = false;
    // Node's ENOSPC from a write through a file descriptor carries no path.
    const spy = jest.spyOn(fs, 'writeFileSync').mockImplementation(((file: FS.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, options?: FS.WriteFileOptions) => {
      if (full && typeof file === 'number') throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      return real(file, data, options);
    }) as typeof fs.writeFileSync);
    let error: Error | null = null;
    try {
      train(micro('full-disk', { checkpointDir: ck, steps: 3, resume: true }), { onStep: () => (full = true) });
    } catch (e) {
      error = e as Error;
    } finally {
      spy.mockRestore();
    }
    expect(error).not.toBeNull();
    expect(error!.message).toMatch(/ENOSPC/);
    expect(error!.message).toContain(ck); // which checkpoint could not be written
    expect(openCheckpoint(ck, micro('full-disk', { checkpointDir: ck, steps: 3, resume: true })).state.step).toBe(2);
  });

  test('the flat layout of earlier versions: an optimizer file from another step is refused', () => {
    const a = path.join(root, 'flat-a');
    const b = path.join(root, 'flat-b');
    losses(micro('flat-a', { checkpointDir: a }));
    losses(micro('flat-b', { checkpointDir: b, steps: 3 }));
    const flat = path.join(root, 'flat');
    fs.mkdirSync(flat);
    for (const f of ['model.safetensors', 'trainer.json']) fs.copyFileSync(path.join(a, 'step-00000002', f), path.join(flat, f));
    fs.copyFileSync(path.join(b, 'step-00000003', 'optimizer-all.safetensors'), path.join(flat, 'optimizer-all.safetensors'));
    const { error, steps } = attempt(micro('flat', { checkpointDir: flat, steps: 4, resume: true }));
    expect(steps).toEqual([]);
    expect(error?.message).toMatch(/optimizer-all\.safetensors/);
  });

  describe('manifest checks', () => {
    const ck0 = path.join(root, 'manifest-base');
    beforeAll(() => {
      losses(micro('manifest-base', { checkpointDir: ck0 }));
    });
    const fresh = (name: string) => {
      const ck = path.join(root, name);
      fs.cpSync(ck0, ck, { recursive: true });
      return { ck, step: path.join(ck, 'step-00000002') };
    };

    test.each(['constructor', 'toString', '__proto__'])("a stray file named '%s' in the checkpoint is refused as unlisted", (stray) => {
      const { ck, step } = fresh(`stray-${stray}`);
      fs.writeFileSync(path.join(step, stray), 'not from a save');
      expect(() => openCheckpoint(ck, micro(`stray-${stray}`, { checkpointDir: ck, steps: 3, resume: true }))).toThrow(/is not listed/);
    });

    test("a manifest entry '..' is refused as a bad entry, with the --resume prefix", () => {
      const { ck, step } = fresh('dotdot');
      const m = JSON.parse(fs.readFileSync(path.join(step, 'manifest.json'), 'utf8'));
      m.files['..'] = { bytes: fs.statSync(ck).size, sha256: '0'.repeat(64) };
      fs.writeFileSync(path.join(step, 'manifest.json'), JSON.stringify(m));
      expect(() => openCheckpoint(ck, micro('dotdot', { checkpointDir: ck, steps: 3, resume: true }))).toThrow(/^--resume: .*manifest\.json/);
    });

    test('model.safetensors with a tensor the model does not have is refused (manifest rewritten to match)', () => {
      const { ck, step } = fresh('extra-tensor');
      const file = path.join(step, 'model.safetensors');
      const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file));
      tensors.set('layers.9.extra', { dtype: 'F32', shape: [1], data: new Uint8Array(4) });
      fs.writeFileSync(file, encodeSafetensors([...tensors], metadata));
      const m = JSON.parse(fs.readFileSync(path.join(step, 'manifest.json'), 'utf8'));
      const bytes = fs.readFileSync(file);
      m.files['model.safetensors'] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
      fs.writeFileSync(path.join(step, 'manifest.json'), JSON.stringify(m));
      const { error, steps } = attempt(micro('extra-tensor', { checkpointDir: ck, steps: 3, resume: true }));
      expect(steps).toEqual([]);
      expect(error?.message).toMatch(/layers\.9\.extra/);
    });
  });
});

describe('two processes saving into one checkpoint directory', () => {
  let scripts: ChildScripts;
  beforeAll(() => {
    scripts = compileChildScripts();
  });
  afterAll(() => scripts?.remove());

  test('the second run is refused before its first step, or both saves survive', async () => {
    const ck = path.join(root, 'shared');
    // The other run: saves after every step, as fast as it can.
    const other = micro('shared-a', { checkpointDir: ck, steps: 100000, checkpointEvery: 1 });
    const child = spawn(process.execPath, [scripts.script('test/helpers/train-child.ts'), JSON.stringify(other)], {
      env: { ...process.env, FRUGAL_NUM_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (/step 3\n/.test(out)) resolve();
        });
        child.on('close', () => reject(new Error('the other run ended early')));
      });
      // This run stalls 1.5 s inside its save (a slow disk), while the other keeps saving.
      const realFsync = fs.fsyncSync;
      let stall = false;
      const spy = jest.spyOn(fs, 'fsyncSync').mockImplementation((fd: number) => {
        realFsync(fd);
        if (stall) {
          stall = false;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
        }
      });
      let error: Error | null = null;
      const steps: number[] = [];
      try {
        train(micro('shared-b', { checkpointDir: ck, steps: 2 }), {
          onStep: (s) => {
            steps.push(s);
            if (s === 2) stall = true;
          },
        });
      } catch (e) {
        error = e as Error;
      } finally {
        spy.mockRestore();
      }
      if (error) {
        // Refused because the directory is in use, before any work; not a raw ENOENT mid-save.
        expect(error.message).toMatch(/--checkpoint-dir/);
        expect(error.message).toMatch(/in use|lock|another/i);
        expect(steps).toEqual([]);
      } else {
        const latest = fs.readFileSync(path.join(ck, 'LATEST'), 'utf8').trim();
        expect(fs.existsSync(path.join(ck, latest, 'manifest.json'))).toBe(true);
      }
      // Whatever this run did, the other one must not have been broken by it.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect({ otherExit: child.exitCode, otherSignal: child.signalCode }).toEqual({ otherExit: null, otherSignal: null });
    } finally {
      child.kill('SIGKILL');
      await closed;
    }
  }, 60000);
});

describe('a crash at every file-system call of a save', () => {
  // Each mutating call in turn throws (as a kill at that moment would stop the save there); the
  // directory must then resume from a complete checkpoint: the previous one or the new one.
  test('leaves LATEST naming a complete checkpoint of step 2 or 3, which restores', () => {
    const base = path.join(root, 'sweep-base');
    const o = micro('sweep', { checkpointDir: base });
    losses(o);
    const tokenizer = JSON.parse(fs.readFileSync(path.join(base, 'step-00000002', 'trainer.json'), 'utf8')).tokenizer;
    const model = new LlamaModel(modelConfig(o.preset, 256, o.model), { device: 'cpu', dtype: 'float32', seed: o.seed });
    const optimizers = new OptimizerSet(model, o, 'adamw');
    const MUTATING = ['openSync', 'writeFileSync', 'fsyncSync', 'renameSync', 'rmSync', 'mkdirSync', 'closeSync'] as const;
    let armed = 0; // throw at this call (1-based) while > 0
    let calls = 0;
    const spies = MUTATING.map((name) => {
      const real = (fs[name] as (...a: unknown[]) => unknown).bind(fs);
      return jest.spyOn(fs, name as never).mockImplementation(((...args: unknown[]) => {
        if (armed > 0 && ++calls === armed) throw Object.assign(new Error(`simulated crash in ${name}`), { code: 'ECRASH' });
        return real(...args);
      }) as never);
    });
    const seen: Record<number, number> = {};
    try {
      for (let k = 1; k < 200; k++) {
        const ck = path.join(root, `sweep-${k}`);
        fs.cpSync(base, ck, { recursive: true });
        calls = 0;
        armed = k;
        let crashed = false;
        try {
          saveCheckpoint(ck, 3, model, optimizers, tokenizer, { ...o, checkpointDir: ck });
        } catch (e) {
          expect((e as Error).message).toMatch(/simulated crash/);
          crashed = true;
        } finally {
          armed = 0;
        }
        const point = openCheckpoint(ck, { ...o, checkpointDir: ck, steps: 4, resume: true });
        expect([2, 3]).toContain(point.state.step);
        seen[point.state.step] = (seen[point.state.step] ?? 0) + 1;
        restoreCheckpoint(point, model, optimizers);
        // After the resume's clean-up only LATEST and the checkpoint it names remain.
        expect(fs.readdirSync(ck).sort()).toEqual(['LATEST', path.basename(point.dir)]);
        fs.rmSync(ck, { recursive: true, force: true });
        if (!crashed) break; // k passed the last call: the save completed
      }
    } finally {
      spies.forEach((s) => s.mockRestore());
      optimizers.dispose();
      model.dispose();
    }
    // Both outcomes occurred: crashes before the switch keep step 2, after it step 3.
    expect(seen[2]).toBeGreaterThan(5);
    expect(seen[3]).toBeGreaterThan(0);
  });
});
