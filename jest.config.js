// ESM project: ts-jest transpiles TypeScript as ES modules; type errors are caught by
// `npm run typecheck`, not here.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json', diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Two tiers: `npm test` runs the fast one; `*.slow.test.ts` files wait out timers that are
  // long by nature (spec-default retry timers, a whole run at a real device's IXIT) and run
  // only with GEISA_TEST_TIER=all (`npm run test:all`, what CI runs).
  testPathIgnorePatterns: process.env.GEISA_TEST_TIER === 'all' ? ['/node_modules/'] : ['/node_modules/', '\\.slow\\.test\\.ts$'],
  // Every test uses real sockets and sometimes child processes: give each file room,
  // while each wait inside is bounded by protocol timers.
  testTimeout: 60000,
  // More workers than cores: most files wait on protocol timers (real sockets, the device
  // host) far longer than they compute; the whole fast tier is about 200 s of CPU.
  maxWorkers: 4,
  reporters: ['default', '<rootDir>/test/support/count-reporter.cjs'],
  testSequencer: '<rootDir>/test/support/sequencer.cjs',
  // A temp folder per run; the teardown fails the run if a test left secrets in it.
  globalSetup: '<rootDir>/test/support/tmpdir-setup.cjs',
  globalTeardown: '<rootDir>/test/support/tmpdir-teardown.cjs',
};
