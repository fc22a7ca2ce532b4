// Progress output: on a terminal a cli-progress bar redrawn in place (step, loss, tokens/s, ETA),
// with the run's other lines (validation, checkpoints) printed above it; otherwise (CI logs,
// pipes) a plain line every `logEvery` steps. Validation results always get a line.
// cli-progress is an optional dependency (the trainer's): without it a terminal gets the plain
// lines too, after one line that names the package.
import type { MultiBar, SingleBar } from 'cli-progress';
import { loadDependency } from '../optional-dependency';

export interface ProgressState {
  step: number; // steps done
  total: number;
  loss: number;
  valLoss?: number;
  tokensPerSec: number;
  etaSeconds: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`;
}

type CliProgress = typeof import('cli-progress');

/** cli-progress, or null when it is not installed (the error for any other failure to load). */
function loadCliProgress(): CliProgress | null {
  try {
    return loadDependency<CliProgress>('cli-progress', 'the progress bar');
  } catch (e) {
    if (/needs the package 'cli-progress'/.test((e as Error).message)) return null;
    throw e;
  }
}

// Redraws at most this often: a step of the tiny preset takes ~1 s, but a --steps 1000 run of a
// toy model in a test would otherwise write a frame per step.
const FRAMES_PER_SECOND = 10;

export class Progress {
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly quiet: boolean;
  private readonly logEvery: number;
  private readonly label: string;
  private readonly cliProgress: CliProgress | null;
  /** The terminal's bars (one) and ours, from the first update until done(). */
  private bars: MultiBar | null = null;
  private bar: SingleBar | null = null;
  private lastDraw = 0;

  constructor(options: { quiet: boolean; logEvery: number; label: string; stream?: NodeJS.WriteStream }) {
    this.out = options.stream ?? process.stderr;
    this.quiet = options.quiet;
    this.logEvery = options.logEvery;
    this.label = options.label;
    const terminal = Boolean(this.out.isTTY) && !this.quiet;
    this.cliProgress = terminal ? loadCliProgress() : null;
    this.tty = this.cliProgress !== null;
    if (terminal && !this.tty) {
      this.out.write(`${this.label} (no progress bar: the package 'cli-progress' is not installed; plain lines instead)\n`);
    }
  }

  update(s: ProgressState): void {
    if (this.quiet) return;
    const text = this.describe(s);
    if (this.tty) {
      this.startBar(s.total);
      this.bar?.update(s.step, { text });
      const now = Date.now();
      // MultiBar draws on its own timer, which a synchronous train() never lets run: draw here,
      // at most FRAMES_PER_SECOND times a second, and always the last step.
      if (now - this.lastDraw >= 1000 / FRAMES_PER_SECOND || s.step === s.total) {
        this.bars?.update();
        this.lastDraw = now;
      }
    } else if (s.step % this.logEvery === 0 || s.step === s.total) {
      this.out.write(`${this.label} ${text}\n`);
    }
  }

  /** A line of its own (validation, checkpoints), above the bar. */
  line(text: string): void {
    if (this.quiet) return;
    if (this.bars) {
      this.bars.log(`${this.label} ${text}\n`);
      this.bars.update(); // now, not at the next frame: the line may be the last before a long wait
    } else {
      this.out.write(`${this.label} ${text}\n`);
    }
  }

  /** Ends the bar (its last frame stays on screen); safe to call more than once, and on errors. */
  done(): void {
    if (!this.bars) return;
    this.bars.stop();
    this.bars = null;
    this.bar = null;
  }

  private startBar(total: number): void {
    if (this.bars || !this.cliProgress) return;
    this.bars = new this.cliProgress.MultiBar({
      stream: this.out,
      format: `${this.label} [{bar}] {text}`,
      barsize: 24,
      barCompleteChar: '=',
      barIncompleteChar: ' ',
      fps: FRAMES_PER_SECOND,
      // Cut a frame at the terminal's width rather than turn line wrapping off: a run that dies
      // without done() then leaves the terminal as it found it.
      linewrap: true,
      hideCursor: false,
      // The trainer handles SIGINT / SIGTERM (a checkpoint first); the bar must not.
      gracefulExit: false,
    });
    this.bar = this.bars.create(total, 0, { text: '' });
  }

  private describe(s: ProgressState): string {
    const width = String(s.total).length;
    const val = s.valLoss !== undefined ? ` val ${s.valLoss.toFixed(3)}` : '';
    return (
      `step ${String(s.step).padStart(width)}/${s.total} loss ${s.loss.toFixed(3)}${val} | ` +
      `${Math.round(s.tokensPerSec).toLocaleString('en-US')} tok/s | ETA ${formatDuration(s.etaSeconds)}`
    );
  }
}
