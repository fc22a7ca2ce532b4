// Loads the reference trajectories recorded from the FRUGAL authors' implementation
// (../shared/testdata/frugal-reference, or $FRUGAL_TESTDATA). Missing data is a failure, not a skip.
import * as fs from 'fs';
import * as path from 'path';

export interface ReferenceCase {
  case: string;
  note: string;
  optimizer: 'AdamW' | 'BlockAdamW' | 'GaloreAdamW' | 'CoordAdamW';
  kwargs: Record<string, any>;
  params: { shape: number[]; projectable: boolean; init: number[] }[];
  grads: number[][][];
  selections_after_step: Record<string, { active?: boolean; indices?: number[]; rows?: number[]; cols?: number[] }>[];
  expected_after_step: number[][][];
}

export function referenceDir(): string {
  return process.env.FRUGAL_TESTDATA ?? path.resolve(__dirname, '../../../shared/testdata/frugal-reference');
}

export function referenceFiles(): string[] {
  const dir = referenceDir();
  if (!fs.existsSync(dir)) {
    throw new Error(`reference trajectories not found at ${dir}: set FRUGAL_TESTDATA to the frugal-reference folder`);
  }
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
}

export function loadReference(file: string): ReferenceCase {
  return JSON.parse(fs.readFileSync(path.join(referenceDir(), file), 'utf8'));
}

/** The README's tolerance: |x - ref| <= 1e-5 + 1e-4 |ref|, element-wise. */
export function withinTolerance(x: number, ref: number): boolean {
  return Math.abs(x - ref) <= 1e-5 + 1e-4 * Math.abs(ref);
}
