/**
 * The file name of a list export, the same from the pages and the API: the list as the customer
 * reads it and the day in the CRM's time zone, safe in `Content-Disposition` — ASCII in
 * `filename`, the whole name in RFC 5987's `filename*`.
 */
import { expect } from 'chai';
import { exportDisposition } from '../../plugin/portal/api/csv-export.js';

describe('list export file name', () => {
  it('names the file after the list and the day in the CRM’s time zone', () => {
    // 22:30 UTC on 31 March is already 1 April in Rome.
    expect(exportDisposition('Ticket di assistenza', 'Europe/Rome', new Date('2026-03-31T22:30:00Z'))).to.equal(
      `attachment; filename="Ticket di assistenza 2026-04-01.csv"; filename*=UTF-8''Ticket%20di%20assistenza%202026-04-01.csv`,
    );
    expect(exportDisposition('Trouble Tickets', 'UTC', new Date('2026-03-31T22:30:00Z'))).to.equal(
      `attachment; filename="Trouble Tickets 2026-03-31.csv"; filename*=UTF-8''Trouble%20Tickets%202026-03-31.csv`,
    );
  });

  it('keeps a name with accents whole in filename* and readable in the ASCII filename', () => {
    expect(exportDisposition('Attività (aperte)', 'UTC', new Date('2026-12-05T10:00:00Z'))).to.equal(
      `attachment; filename="Attivit_ (aperte) 2026-12-05.csv"; filename*=UTF-8''Attivit%C3%A0%20%28aperte%29%202026-12-05.csv`,
    );
  });

  it('leaves out what a file name cannot hold and invisible characters that would disguise it', () => {
    // A right-to-left override (U+202E) would show `Files\u202Eexe. 2026-12-05.csv` as if it ended in `.exe`.
    const header = exportDisposition('Q/A: "Docs"\\Files\u202Eexe.\r\n', 'UTC', new Date('2026-12-05T10:00:00Z'));
    expect(header).to.equal(`attachment; filename="Q-A- -Docs--Filesexe. 2026-12-05.csv"; filename*=UTF-8''Q-A-%20-Docs--Filesexe.%202026-12-05.csv`);
    // Nothing left of the name: the day alone.
    expect(exportDisposition(' \u0007 ', 'UTC', new Date('2026-12-05T10:00:00Z'))).to.equal(`attachment; filename="2026-12-05.csv"; filename*=UTF-8''2026-12-05.csv`);
  });
});
