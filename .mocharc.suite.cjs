/**
 * The whole suite as `npm test` runs it: the options of `.mocharc.json`, every `test/**\/*.test.ts`,
 * three files at a time (`--parallel --jobs 3`), the longest files first.
 *
 * Why three on a 2-core machine: two workers used about one core between them (the rest of the
 * time they wait on Chromium, mail servers, timers and child processes). Measured on one quiet
 * 2-core machine (2026-12-06, the same tree, mocha alone): 2 workers 7 min 37 s, 3 workers
 * 5 min 28 s, 4 workers 6 min 56 s (the browser files then took twice as long). README, "Tests".
 * On a slower machine (2026-12-07) three workers kept both cores 94 % busy: there, only less work
 * shortens the run (the tests' password hashing, test/support/hash-cost.ts; Chromium's headless
 * shell, test/support/browser.ts; no stack formatted per SQLite statement, host/database.ts; test
 * hosts copied from a set-up database, test/support/host.ts).
 *
 * Why an order: in parallel mode mocha hands the files to its workers in the order given
 * here, and the run ends when the last file does. In alphabetical order the heaviest files (the
 * browser suites, the hostile-shapes walk) came in the last half, where a long one started late
 * can leave one worker running it alone. Started first, the long files run beside the many short
 * ones, which then fill both workers to the end.
 *
 * LONGEST_FIRST is measured, not exact (README, "Tests"): a file missing from it only starts later,
 * in alphabetical order with the rest. A name here that is no test file stops the run, so that a
 * renamed file is noticed. Single files run as before: `npx mocha test/path/file.test.ts` reads
 * `.mocharc.json` only.
 */
const { readdirSync } = require('node:fs');
const base = require('./.mocharc.json');

/** The longest files, longest first (measured one at a time, 2026-12): browser work, every route attacked. */
const LONGEST_FIRST = [
  'test/profiles/privileges-browser.test.ts',
  'test/demo/start-command.test.ts',
  'test/security/hostile-shapes.test.ts',
  'test/portal-api/authorization-model.test.ts',
  'test/portal-pages/accessibility-audit-browser.test.ts',
  'test/portal-pages/portal-pages-browser.test.ts',
  'test/portal-pages/keyboard-and-reflow-browser.test.ts',
  'test/registry/cli.test.ts',
  'test/portal-pages/phone-lists-browser.test.ts',
  'test/settings/admin-keyboard-and-reflow-browser.test.ts',
  'test/portal-pages/phone-and-desktop-browser.test.ts',
  'test/portal-pages/portal-pages.test.ts',
  'test/settings/classic-settings-browser.test.ts',
  'test/login-check/login-check-browser.test.ts',
];

const all = readdirSync('test', { recursive: true })
  .map((file) => `test/${String(file).replaceAll('\\', '/')}`)
  .filter((file) => file.endsWith('.test.ts'))
  .sort();
const unknown = LONGEST_FIRST.filter((file) => !all.includes(file));
if (unknown.length > 0) throw new Error(`.mocharc.suite.cjs: no such test file: ${unknown.join(', ')}`);

module.exports = {
  ...base,
  parallel: true,
  jobs: 3,
  spec: [...LONGEST_FIRST, ...all.filter((file) => !LONGEST_FIRST.includes(file))],
};
