/**
 * The outcome an admin POST sends back to its page, signed for the admin's CRM session (`sig`,
 * always the last parameter; plugin/http/admin-outcomes.ts): reading it without the signature, and
 * the links someone other than that admin's own save could make of it.
 */

/** A POST's way back without the outcome's signature. */
export function unsigned(location: string | null): string | null {
  return location === null ? null : location.replace(/[?&]sig=[^&]*$/, '');
}

/**
 * Links to the page of `location` (a real POST's way back) that carry its outcome without a valid
 * signature for the session: none, a made-up one, and the real one on a different outcome.
 */
export function forgedOutcomes(location: string, other: Readonly<Record<string, string>> = {}): Record<string, string> {
  const bare = unsigned(location)!;
  const sig = /[?&]sig=([^&]*)$/.exec(location)?.[1] ?? '';
  const url = new URL(bare, 'http://x');
  for (const [key, value] of Object.entries(other)) url.searchParams.set(key, value);
  return {
    unsigned: bare,
    madeUp: `${bare}&sig=${'A'.repeat(sig.length || 43)}`,
    otherOutcome: `${url.pathname}${url.search}&sig=${sig}`,
    extraParameter: `${bare}&x=1&sig=${sig}`,
  };
}
