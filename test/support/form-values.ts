/** What a browser would send from a page's HTML, read without a browser. */

/** The value a browser sends for a single `<select>`'s markup: its selected option, else its first enabled one. */
export function sentValue(select: string): string {
  const options = [...select.matchAll(/<option value="([^"]*)"([^>]*)>/g)].map((m) => ({ value: m[1]!, attributes: m[2]! }));
  const chosen = options.find((o) => / selected\b/.test(o.attributes)) ?? options.find((o) => !/ disabled\b/.test(o.attributes));
  return chosen?.value ?? '';
}
