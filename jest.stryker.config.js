// The jest configuration StrykerJS runs (stryker.config.json): the test files that exercise
// lib/optim, lib/tensor.ts and lib/checkpoint in-process. Files that only drive child processes
// or the kernel simulators are left out: a mutant in the parent's lib/ never reaches them.
const base = require('./jest.config');

// Every test file that drives lib/ in-process. A mutant runs only the tests that cover it, but
// code every test touches (Tensor.fromArray, the option checks, saving) is covered by hundreds of
// tests in most files, so a surviving mutant there costs a run of nearly the whole list.
const ALL = [
  '**/test/tensor.test.ts',
  '**/test/optim-basic.test.ts',
  '**/test/optim-errors.test.ts',
  '**/test/checkpoint.test.ts',
  '**/test/checkpoint-corrupt.test.ts',
  '**/test/methods.test.ts',
  '**/test/invariants.test.ts',
  '**/test/robustness.test.ts',
  '**/test/reference.test.ts',
  '**/test/svd-basis.test.ts',
  '**/test/mutation-kills.test.ts',
  '**/test/blocks-authors.test.ts',
  '**/test/checkpoint-api.test.ts',
  '**/test/checkpoint-corruption.test.ts',
  '**/test/skipped-steps-file.test.ts',
  '**/test/numerics.test.ts',
  '**/test/overlapping-params.test.ts',
  '**/test/step-safety.test.ts',
  '**/test/safety-hardening.test.ts',
  '**/test/review-safety.test.ts',
  '**/test/float-to-int32.test.ts',
  '**/test/ref64-seeds.test.ts',
  '**/test/ref64-cases.test.ts',
  '**/test/review-exact.test.ts',
  '**/test/devices.test.ts',
  '**/test/option-coverage.test.ts',
  '**/test/stryker-kills/*.test.ts',
];

// STRYKER_TESTS=<part>: the files aimed at one part of the scope, for a run of that part alone
// on a small machine (docs/mutation-testing.md says which runs used which set; a mutant that
// survives a focused set may still be killed by the full list).
const FOCUSED = {
  tensor: ['tensor.test.ts', 'invariants.test.ts', 'robustness.test.ts', 'safety-hardening.test.ts', 'review-safety.test.ts',
    'float-to-int32.test.ts', 'stryker-kills/tensor.test.ts'],
  checkpoint: ['checkpoint.test.ts', 'checkpoint-corrupt.test.ts', 'checkpoint-api.test.ts', 'checkpoint-corruption.test.ts',
    'skipped-steps-file.test.ts', 'stryker-kills/checkpoint.test.ts'],
  optim: ['optim-basic.test.ts', 'optim-errors.test.ts', 'methods.test.ts', 'robustness.test.ts', 'mutation-kills.test.ts',
    'checkpoint.test.ts', 'option-coverage.test.ts', 'blocks-authors.test.ts', 'overlapping-params.test.ts',
    'stryker-kills/options.test.ts', 'stryker-kills/optimizer.test.ts'],
  // The kill tests alone: run on the lines of a part's survivors to score the part with them added
  // (a mutant killed before stays killed; one that survived is killed if these tests kill it).
  kills: ['stryker-kills/*.test.ts'],
};
const STRYKER_TESTS = process.env.STRYKER_TESTS;
function unknownSet() {
  throw new Error(`STRYKER_TESTS=${STRYKER_TESTS}: expected one of ${Object.keys(FOCUSED).join(', ')} (or unset for every file)`);
}

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  // Transpile only: ts-jest's type check costs seconds on every jest run, and Stryker starts one
  // per mutant (4x faster measured); the types are checked by `npm run typecheck`.
  transform: {
    ...base.transform,
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json', isolatedModules: true }],
  },
  testMatch: STRYKER_TESTS === undefined ? ALL : (FOCUSED[STRYKER_TESTS] ?? unknownSet()).map((f) => `**/test/${f}`),
};
