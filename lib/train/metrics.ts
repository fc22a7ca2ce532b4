// metrics.jsonl: one JSON object per line, written as the run goes (so a crashed or interrupted
// run keeps what it did). Records: {type: 'train', step, loss, lr, tokensPerSec, elapsed},
// {type: 'val', step, loss, perplexity}, and a final {type: 'summary', ...}. A resumed run keeps
// the records before its checkpoint's step and continues the file.
import * as fs from 'fs';
import * as path from 'path';

export interface TrainRecord {
  type: 'train';
  step: number; // 1-based: the number of steps done
  loss: number;
  lr: number;
  tokensPerSec: number;
  elapsed: number;
  peakBytes?: number;
}

export interface ValRecord {
  type: 'val';
  step: number;
  loss: number;
  perplexity: number;
}

export type MetricRecord = TrainRecord | ValRecord | ({ type: 'summary' } & Record<string, unknown>);

export class MetricsLog {
  readonly file: string;
  private fd: number;

  /** Opens `file`; keeps the records of steps <= keepUpTo (a resumed run), or starts empty. */
  constructor(file: string, keepUpTo?: number) {
    this.file = file;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    let kept = '';
    if (keepUpTo !== undefined && fs.existsSync(file)) {
      kept = readMetrics(file)
        .filter((r) => r.type !== 'summary' && (r as TrainRecord).step <= keepUpTo)
        .map((r) => JSON.stringify(r) + '\n')
        .join('');
    }
    fs.writeFileSync(file, kept);
    this.fd = fs.openSync(file, 'a');
  }

  write(record: MetricRecord): void {
    fs.writeSync(this.fd, JSON.stringify(record) + '\n');
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Every record of a metrics.jsonl file (blank or torn last lines are skipped). */
export function readMetrics(file: string): MetricRecord[] {
  const out: MetricRecord[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricRecord);
    } catch {
      // A line cut short by a crash.
    }
  }
  return out;
}
