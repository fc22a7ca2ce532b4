// Tests are TypeScript run through ts-jest against lib/ directly (no build of dist/ needed), with
// the addon from build/ (npm install or npm run build:addon). Two workers: CI has two cores.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
    // tinybench (the benchmark harness) ships only ES modules; jest's CommonJS runtime needs them
    // compiled, which ts-jest does for this one package.
    '/node_modules/tinybench/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, isolatedModules: true },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!tinybench/)'],
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  maxWorkers: 2,
  testTimeout: 120000,
};
