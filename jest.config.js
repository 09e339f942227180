// One jest run, several projects: each part of the tree gets the environment it needs.
// swc strips types only; `npm run typecheck` is the type check.
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2020' }, module: { type: 'commonjs' } }];

const common = {
  transform: { '^.+\\.ts$': swc },
  // ts before js and json: a stale .js or a component's index.json must never shadow the source.
  moduleFileExtensions: ['ts', 'js', 'json'],
  testPathIgnorePatterns: ['/node_modules/', '/miniprogram_npm/'],
  // The built server package shares its name with the server workspace; tests use the source, and the package from a tarball.
  modulePathIgnorePatterns: ['<rootDir>/packages/server/'],
};

// fastify's inject() (light-my-request) requires `cookie`, which ships only as ESM; jest's own
// module loader cannot require ESM on Node 20, so swc compiles it to CommonJS for the server tests.
const withEsmCookie = {
  transform: { ...common.transform, '/node_modules/cookie/.+\\.js$': swc },
  transformIgnorePatterns: ['/node_modules/(?!cookie/)'],
};

// The real pages under miniprogram-simulate, with the stateful fakes, resolving Vant through the copy
// build:npm makes, as the mini-program resolves it at run time.
const simulatedMiniprogram = {
  setupFilesAfterEnv: ['<rootDir>/test/miniprogram/support/setup.ts'],
  moduleNameMapper: { '^@vant/weapp/(.*)$': '<rootDir>/miniprogram/miniprogram_npm/@vant/weapp/$1' },
};

module.exports = {
  projects: [
    { ...common, displayName: 'auth', testEnvironment: 'node', testMatch: ['<rootDir>/test/auth/**/*.test.ts'] },
    { ...common, ...withEsmCookie, displayName: 'server', testEnvironment: 'node', testMatch: ['<rootDir>/test/server/**/*.test.ts'] },
    { ...common, ...withEsmCookie, displayName: 'reliability', testEnvironment: 'node', testMatch: ['<rootDir>/test/reliability/**/*.test.ts'] },
    { ...common, ...withEsmCookie, displayName: 'e2e', testEnvironment: 'node', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    {
      ...common,
      displayName: 'ui',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/test/miniprogram/**/*.test.ts'],
      ...simulatedMiniprogram,
    },
    // Every .ts compiled on its own and loaded in a context that has only what WeChat's runtime has.
    { ...common, displayName: 'load', testEnvironment: 'node', testMatch: ['<rootDir>/test/load/**/*.test.ts'] },
    // Every state of every screen in the real Chromium (test/screens): the layout checks, or with
    // SCREENS_OUT set, the preview's screenshots. One browser for the run (global setup), reached
    // from the jsdom tests through the environment; skipped without Chromium unless REQUIRE_CHROMIUM=1.
    {
      ...common,
      displayName: 'screens',
      testEnvironment: '<rootDir>/test/screens/environment.js',
      testMatch: ['<rootDir>/test/screens/**/*.screens.test.ts'],
      ...simulatedMiniprogram,
      globalSetup: '<rootDir>/test/screens/global-setup.js',
      globalTeardown: '<rootDir>/test/screens/global-teardown.js',
      testTimeout: 30000,
    },
    // The package as a consumer sees it: jsdom for miniprogram-simulate, and `miniprogram_npm` as a
    // module folder, which is where a mini-program's require('<package>') looks.
    {
      ...common,
      displayName: 'package',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/test/package/**/*.test.ts'],
      moduleDirectories: ['node_modules', 'miniprogram_npm'],
    },
  ],
};
