/**
 * Integration test files share one Temporal dev server; each starts its own worker, API and
 * sandbox with its own tenants and task queue, so jest may run files side by side like unit tests.
 */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] };

module.exports = {
  // The Temporal native runtime keeps handles open after the last test; end the run anyway.
  forceExit: true,
  // Integration tests wait on real workflows (deferrals, restarts, hundreds of leads); unit tests are fast anyway.
  testTimeout: 180000,
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/support/globalSetup.ts',
      globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
      setupFiles: ['<rootDir>/test/support/quietRuntime.ts'],
    },
  ],
};
