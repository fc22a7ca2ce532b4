// Tests are TypeScript run through ts-jest against lib/ directly (no build of dist/ needed), with
// the addon from build/ (npm install or npm run build:addon). Two workers: CI has two cores.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  maxWorkers: 2,
  testTimeout: 120000,
};
