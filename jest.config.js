// Tests are TypeScript run through ts-jest against lib/ directly (no build of dist/ needed), with
// the addon from build/ (npm install or npm run build:addon). Two workers: CI has two cores.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
    // tinybench (the benchmark harness) and llama-tokenizer-js (the LLaMA tokenizer) ship only ES
    // modules; jest's CommonJS runtime needs them compiled, which ts-jest does for these packages.
    '/node_modules/(tinybench|llama-tokenizer-js)/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, isolatedModules: true },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(tinybench|llama-tokenizer-js)/)'],
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  maxWorkers: 2,
  testTimeout: 120000,
};
