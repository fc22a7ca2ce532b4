// Progress output: on a terminal a bar redrawn in place (step, loss, tokens/s, ETA); otherwise
// (CI logs, pipes) a plain line every `logEvery` steps. Validation results always get a line.

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

export class Progress {
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly quiet: boolean;
  private readonly logEvery: number;
  private readonly label: string;
  private drawn = false;

  constructor(options: { quiet: boolean; logEvery: number; label: string; stream?: NodeJS.WriteStream }) {
    this.out = options.stream ?? process.stderr;
    this.tty = Boolean(this.out.isTTY);
    this.quiet = options.quiet;
    this.logEvery = options.logEvery;
    this.label = options.label;
  }

  update(s: ProgressState): void {
    if (this.quiet) return;
    const text = this.describe(s);
    if (this.tty) {
      const width = 24;
      const filled = Math.round((width * s.step) / s.total);
      const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + ' '.repeat(width - filled);
      this.out.write(`\r\x1b[2K${this.label} [${bar}] ${text}`);
      this.drawn = true;
    } else if (s.step % this.logEvery === 0 || s.step === s.total) {
      this.out.write(`${this.label} ${text}\n`);
    }
  }

  /** A line of its own (validation, checkpoints), above the bar. */
  line(text: string): void {
    if (this.quiet) return;
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.out.write(`${this.label} ${text}\n`);
  }

  done(): void {
    if (this.quiet) return;
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = false;
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
