/** Assertions several suites share. */
import { expect } from 'chai';

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/**
 * The headers SECURITY.md asks of every page response (errors and redirects included).
 * `csp` lists the CSP directives to find, beyond the three every response must have; `cacheControl`
 * is `no-store` but for the package's static files (see `plugin/http/package-assets.ts`).
 */
export function expectSecurityHeaders(res: Response, what: string, csp: readonly string[] = [], cacheControl = 'no-store'): void {
  const policy = res.headers.get('content-security-policy') ?? '';
  for (const directive of ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", ...csp]) {
    expect(policy, `${what}: CSP ${directive}`).to.include(directive);
  }
  expect(res.headers.get('strict-transport-security'), what).to.match(/max-age=31536000/);
  expect(res.headers.get('x-content-type-options'), what).to.equal('nosniff');
  expect(res.headers.get('referrer-policy'), what).to.equal('no-referrer');
  expect(res.headers.get('cache-control'), what).to.equal(cacheControl);
}
