/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/jest-single-realm-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // @swc/jest is ~3x faster than ts-jest here; types are checked by `npm run typecheck`.
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  // middy ships ESM only: let jest transform it.
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  setupFiles: ['<rootDir>/test/jest-env.js'],
  testTimeout: 60000,
};
