/**
 * Jest runs the unit tests under src/__tests__ in jsdom, compiling the
 * TypeScript with ts-jest to CommonJS (the Lumino packages ship CommonJS
 * builds, so nothing else needs transforming).
 */
module.exports = {
  testEnvironment: 'jsdom',
  setupFiles: ['<rootDir>/jest-shim.js'],
  testRegex: 'src/.*/.*\\.spec\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  collectCoverageFrom: ['src/**/*.ts', '!src/**/*.d.ts'],
  coverageReporters: ['text-summary']
};
