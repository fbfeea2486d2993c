/**
 * The reference host's time zone (`TZ_CRM`) as the plugin reads it: an IANA name in its own
 * spelling, whatever case the administrator typed, since the portal shows it to customers beside
 * every datetime box ("Time zone: Central European Time (Europe/Rome)") and in messages.
 */
import { expect } from 'chai';
import { FixedRegional } from '../../host/web/regional.js';
import { zoneName } from '../../plugin/portal/pages/field-display.js';

describe('the reference host’s time zone (regional.ts)', () => {
  it('names a zone typed in another case by its IANA spelling', () => {
    expect(new FixedRegional('europe/rome').timeZone()).to.equal('Europe/Rome');
    expect(new FixedRegional('AMERICA/LOS_ANGELES').timeZone()).to.equal('America/Los_Angeles');
    expect(new FixedRegional('utc').timeZone()).to.equal('UTC');
    expect(new FixedRegional().timeZone()).to.equal('Europe/Rome');
    expect(zoneName(new FixedRegional('europe/rome').timeZone(), 'en')).to.equal('Central European Time (Europe/Rome)');
  });

  it('still refuses what is no zone', () => {
    expect(() => new FixedRegional('Mars/Base')).to.throw(/Unknown time zone "Mars\/Base"/);
  });
});
