// The jest configuration StrykerJS runs (stryker.config.json): the test files that exercise
// lib/optim, lib/tensor.ts and lib/checkpoint in-process. Files that only drive child processes
// or the kernel simulators are left out: a mutant in the parent's lib/ never reaches them.
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: [
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
  ],
};
