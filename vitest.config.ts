import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          // Brings the sandbox up once per run (or reuses a running one); fails loudly if it cannot.
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // Two cores: parallel files share the sandbox; keep it to two at a time.
          maxWorkers: 2,
        },
      },
    ],
  },
});
