/**
 * Runs a suite with the test process in another time zone (`TZ`, which Node reads at once): the
 * server's own zone must not matter to what customers and the CRM see. Call it in a `describe`
 * before the hooks that start a host; the zone the process had comes back after the suite.
 */
export function inProcessZone(zone: string): void {
  let previous: string | undefined;
  before(() => {
    previous = process.env.TZ;
    process.env.TZ = zone;
  });
  after(() => {
    if (previous === undefined) delete process.env.TZ;
    else process.env.TZ = previous;
  });
}
