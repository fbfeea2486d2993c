/**
 * The demo's records: a small manufacturing-equipment supplier's CRM with English customers
 * (Acme Ltd, Globex Corporation, Initech Inc) and Italian ones (Acme Italia Srl, Rossi SpA,
 * Bianchi & Figli Snc), written in each customer's language.
 *
 * Everything is fixed text; dates are offsets from the day of seeding so the demo always looks
 * current (open quotes still valid, contracts running). Records are listed in dependency order:
 * a record's `links` only name records listed before it.
 */
import type { FieldValue } from '../../plugin/host-contract/index.js';
import { RECORD_NUMBER_SERIES } from '../records/record-numbers.js';
import { type DemoFile, pdfFile, textFile } from './demo-files.js';

export interface DemoComment {
  /** `contact`: written from the portal by the record's `contact_id`; `user`: by the record's `staff` user. */
  readonly by: 'contact' | 'user';
  readonly internal?: boolean;
  readonly body: string;
}

export interface DemoRecord {
  readonly module: string;
  /** A name unique within the demo, used by later records' `links`. */
  readonly ref: string;
  readonly values: Readonly<Record<string, FieldValue>>;
  /** Reference field → `ref` of the record it points at. */
  readonly links?: Readonly<Record<string, string>>;
  readonly comments?: readonly DemoComment[];
  readonly files?: readonly DemoFile[];
  /** The user name of the CRM user who owns the record and writes its staff comments (the admin when absent). */
  readonly staff?: string;
}

/** A demo customer who becomes a portal user. */
export interface DemoCustomer {
  /** The `ref` of their Contacts record. */
  readonly contact: string;
  readonly account: string;
}

/** Contacts that become portal users (Jane and Mario are fixed points of the specification). */
export const demoPortalCustomers: readonly DemoCustomer[] = [
  { contact: 'jane', account: 'Acme Ltd' },
  { contact: 'mario', account: 'Rossi SpA' },
  { contact: 'tom', account: 'Acme Ltd' },
  { contact: 'giulia', account: 'Acme Italia Srl' },
  { contact: 'samuel', account: 'Initech Inc' },
];

/** `YYYY-MM-DD` of the day `offset` days from `today` (UTC). */
function dayFrom(today: Date, offset: number): string {
  const day = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + offset));
  return day.toISOString().slice(0, 10);
}

/** Accounts whose records are written in Italian and answered by the Italian-speaking agent. */
const italianAccounts = new Set(['acme-italia', 'rossi', 'bianchi']);

export function demoRecords(today: Date): readonly DemoRecord[] {
  const day = (offset: number) => dayFrom(today, offset);
  // Document numbers (TT1001, INV-1001, …) are given in the order the records are listed.
  const counters = new Map<string, number>();
  /** The next number of the module's series (the host's, `RECORD_NUMBER_SERIES`), from `first` on. */
  const nextNumber = (module: string, first: number) => {
    const { prefix } = RECORD_NUMBER_SERIES[module]!;
    const n = (counters.get(prefix) ?? first - 1) + 1;
    counters.set(prefix, n);
    return `${prefix}${n}`;
  };
  return [
    // ─────────────────────────────── accounts ───────────────────────────────
    {
      module: 'Accounts',
      ref: 'acme',
      values: {
        accountname: 'Acme Ltd',
        industry: 'Manufacturing',
        phone: '+44 20 7946 0100',
        email: 'info@acme.example.com',
        website: 'https://acme.example.com',
        city: 'London',
        country: 'United Kingdom',
        status: 'Active',
        description: 'Packaging lines for the food industry. Customer since 2016; premium support contract.',
      },
      files: [
        pdfFile('Acme Ltd - Master service agreement', 'acme-master-service-agreement.pdf', [
          'Master service agreement between Acme Ltd and our company.',
          'Scope: installation, maintenance and remote support of packaging lines 1-3.',
          'Response time for critical incidents: 4 business hours.',
          'Signed for Acme Ltd by Jane Doe, Head of Operations.',
        ]),
      ],
    },
    {
      module: 'Accounts',
      ref: 'acme-italia',
      links: { parent_id: 'acme' },
      values: {
        accountname: 'Acme Italia Srl',
        industry: 'Manufacturing',
        phone: '+39 02 5550 1200',
        email: 'info@acme-italia.example.com',
        website: 'https://acme-italia.example.com',
        city: 'Milano',
        country: 'Italia',
        status: 'Active',
        description: 'Filiale italiana di Acme Ltd: magazzino e spedizioni per il Nord Italia.',
      },
    },
    {
      module: 'Accounts',
      ref: 'rossi',
      values: {
        accountname: 'Rossi SpA',
        industry: 'Metalworking',
        phone: '+39 051 555 0190',
        email: 'amministrazione@rossi.example.com',
        website: 'https://rossi.example.com',
        city: 'Bologna',
        country: 'Italia',
        status: 'Active',
        description: 'Stampaggio a freddo di componenti metallici. Due presse PX-200 in assistenza.',
      },
      files: [
        pdfFile('Rossi SpA - Condizioni di fornitura', 'rossi-condizioni-fornitura.pdf', [
          'Condizioni generali di fornitura concordate con Rossi SpA.',
          'Pagamento: bonifico a 60 giorni data fattura fine mese.',
          'Consegna ricambi: entro 5 giorni lavorativi dalla conferma d\'ordine.',
        ]),
      ],
    },
    {
      module: 'Accounts',
      ref: 'globex',
      values: {
        accountname: 'Globex Corporation',
        industry: 'Logistics',
        phone: '+1 217 555 0142',
        email: 'contact@globex.example.org',
        website: 'https://globex.example.org',
        city: 'Springfield',
        country: 'United States',
        status: 'Active',
        description: 'Distribution centres in Illinois and Ohio; uses our remote monitoring service.',
      },
    },
    {
      module: 'Accounts',
      ref: 'initech',
      values: {
        accountname: 'Initech Inc',
        industry: 'Software',
        phone: '+1 512 555 0178',
        email: 'accounts@initech.example.net',
        website: 'https://initech.example.net',
        city: 'Austin',
        country: 'United States',
        status: 'Blocked',
        description: 'Blocked by Finance: two invoices overdue by more than 90 days. New requests need approval.',
      },
    },
    {
      module: 'Accounts',
      ref: 'bianchi',
      values: {
        accountname: 'Bianchi & Figli Snc',
        industry: 'Food',
        phone: '+39 0521 555 044',
        email: 'info@bianchi-figli.example.net',
        website: 'https://bianchi-figli.example.net',
        city: 'Parma',
        country: 'Italia',
        status: 'Prospect',
        description: 'Salumificio interessato alla tracciabilità dei lotti sulle linee di confezionamento.',
      },
    },

    // ─────────────────────────────── contacts ───────────────────────────────
    contact('jane', 'acme', 'en', ['Jane', 'Doe', 'jane.doe@example.com', 'Head of Operations', 'London', 'United Kingdom'], {
      phone: '+44 20 7946 0101',
      mobile: '+44 7700 900101',
      description: 'Main contact for the packaging lines; approves quotes up to GBP 20,000.',
    }, [
      pdfFile('Non-disclosure agreement - Jane Doe', 'nda-jane-doe.pdf', [
        'Mutual non-disclosure agreement',
        'Between Acme Ltd (represented by Jane Doe) and our company.',
        'Covers the designs of packaging line 3 and the LC-400 firmware roadmap.',
      ]),
    ]),
    contact('tom', 'acme', 'en', ['Tom', 'Baker', 'tom.baker@example.com', 'Procurement Manager', 'London', 'United Kingdom'], {
      phone: '+44 20 7946 0102',
      description: 'Handles purchase orders and invoices.',
    }),
    contact('priya', 'acme', 'en', ['Priya', 'Shah', 'priya.shah@example.com', 'IT Administrator', 'Leeds', 'United Kingdom'], {
      mobile: '+44 7700 900103',
    }),
    contact('giulia', 'acme-italia', 'it', ['Giulia', 'Bianchi', 'giulia.bianchi@example.com', 'Responsabile acquisti', 'Milano', 'Italia'], {
      phone: '+39 02 5550 1201',
      description: 'Referente per ordini e resi della filiale italiana.',
    }),
    contact('luca', 'acme-italia', 'it', ['Luca', 'Ferri', 'luca.ferri@example.com', 'Tecnico di magazzino', 'Milano', 'Italia'], {
      mobile: '+39 333 555 0102',
    }),
    contact('mario', 'rossi', 'it', ['Mario', 'Rossi', 'mario.rossi@example.com', 'Amministratore delegato', 'Bologna', 'Italia'], {
      phone: '+39 051 555 0191',
      mobile: '+39 335 555 0191',
      description: 'Decide sugli interventi di manutenzione straordinaria.',
    }, [
      textFile('Delega per le richieste di assistenza', 'delega-assistenza-rossi.txt', [
        'Il sottoscritto Mario Rossi, amministratore delegato di Rossi SpA,',
        'autorizza Paolo Conti e Giorgio Neri ad aprire richieste di assistenza',
        'e a firmare i rapporti di intervento per conto della società.',
      ]),
    ]),
    contact('francesca', 'rossi', 'it', ['Francesca', 'Rossi', 'francesca.rossi@example.com', 'Responsabile amministrazione', 'Bologna', 'Italia'], {
      phone: '+39 051 555 0192',
    }),
    contact('paolo', 'rossi', 'it', ['Paolo', 'Conti', 'paolo.conti@example.com', 'Capo reparto stampaggio', 'Bologna', 'Italia'], {}),
    // No email on purpose: turning on portal access for him shows why nothing can be sent.
    contact('giorgio', 'rossi', 'it', ['Giorgio', 'Neri', null, 'Manutentore', 'Bologna', 'Italia'], { mobile: '+39 347 555 0193' }),
    contact('olivia', 'globex', 'en', ['Olivia', 'Grant', 'olivia.grant@example.org', 'Chief Technology Officer', 'Springfield', 'United States'], {
      phone: '+1 217 555 0143',
    }),
    contact('marcus', 'globex', 'en', ['Marcus', 'Lee', 'marcus.lee@example.org', 'Service Desk Lead', 'Columbus', 'United States'], {
      phone: '+1 614 555 0144',
    }),
    contact('samuel', 'initech', 'en', ['Samuel', 'Whitaker', 'samuel.whitaker@example.net', 'Facilities Manager', 'Austin', 'United States'], {}),
    contact('laura', 'initech', 'en', ['Laura', 'Chen', 'laura.chen@example.net', 'Office Manager', 'Austin', 'United States'], {}),
    contact('anna', 'bianchi', 'it', ['Anna', 'Marino', 'anna.marino@example.net', 'Responsabile qualità', 'Parma', 'Italia'], {}),

    // ─────────────────────────────── catalogue ──────────────────────────────
    product('lc400', 'Line Controller LC-400', 'Controllers', 1890, 'PLC-based controller for packaging lines, 24 I/O, Ethernet.'),
    product('px200', 'Hydraulic Press PX-200', 'Machinery', 24500, '200-tonne hydraulic press for cold forming.'),
    product('bl10', 'Barcode Label Printer BL-10', 'Printers', 640, 'Thermal transfer label printer, 300 dpi.'),
    product('sk3', 'Sensor Kit SK-3', 'Spare parts', 215.5, 'Photoelectric sensors with cables and brackets for one conveyor.'),
    product('hs8', 'Hydraulic Seal Set HS-8', 'Spare parts', 78.9, 'Seal set for PX-200 main cylinder.'),
    service('onsite', 'On-site Technical Support (per day)', 'Support', 720, 'A field engineer at the customer site, travel included within 100 km.'),
    service('training', 'Operator Training Course', 'Training', 1200, 'Two-day course for up to eight operators, at the customer site.'),
    service('maintenance', 'Preventive Maintenance Visit', 'Maintenance', 450, 'Scheduled inspection, lubrication and calibration.'),
    service('monitoring', 'Remote Monitoring Subscription (monthly)', 'Monitoring', 95, 'Alarms and weekly reports for one production line.'),

    // ──────────────────────────────── tickets ───────────────────────────────
    ticket('acme', 'jane', {
      ticket_title: 'Line 2 controller reboots every night',
      status: 'Open',
      priority: 'High',
      severity: 'Major',
      category: 'Big Problem',
      description: 'Since the firmware update on Monday the LC-400 on packaging line 2 restarts at about 02:00 every night and the night shift loses 20 minutes of production.',
    }, [
      { by: 'contact', body: 'It happened again last night at 02:04. I have attached the controller log.' },
      { by: 'user', body: 'Thank you Jane, we are analysing the log. Could you tell us the firmware version shown on the controller display?' },
      { by: 'user', internal: true, body: 'Firmware 4.2.1 has a known watchdog issue. Check with R&D before promising a fix date.' },
      { by: 'contact', body: 'The display shows 4.2.1 build 118.' },
    ], [
      textFile('Line 2 controller log', 'line2-controller.log.txt', [
        '02:03:58 WARN  watchdog: cycle time 212 ms exceeds 200 ms',
        '02:04:01 ERROR watchdog: reset requested',
        '02:04:01 INFO  controller: rebooting (firmware 4.2.1 build 118)',
        '02:05:47 INFO  controller: line 2 ready',
      ]),
    ]),
    ticket('acme', 'tom', {
      ticket_title: 'Wrong VAT number on the latest invoice',
      status: 'In Progress',
      priority: 'Normal',
      severity: 'Minor',
      category: 'Small Problem',
      description: 'The invoice for the Line 3 upgrade shows our old VAT number GB 123 4567 89. The correct one is GB 987 6543 21.',
    }, [
      { by: 'contact', body: 'Our accounts payable cannot book the invoice until the VAT number is fixed.' },
      { by: 'user', body: 'We have asked our billing team to issue a corrected invoice; you will receive it by Friday.' },
    ]),
    ticket('acme', 'jane', {
      ticket_title: 'On-site training for new operators',
      status: 'Wait For Response',
      priority: 'Low',
      severity: 'Minor',
      category: 'Other',
      description: 'Six new operators join the night shift next month and need the LC-400 operator course.',
    }, [
      { by: 'user', body: 'We can run the course on the 12th and 13th or on the 19th and 20th. Which dates suit you best?' },
    ]),
    ticket('acme', 'priya', {
      ticket_title: 'Replacement sensor kit delivered incomplete',
      status: 'Closed',
      priority: 'Normal',
      severity: 'Minor',
      category: 'Small Problem',
      description: 'The SK-3 kit we received has four sensors but only three cables.',
      solution: 'The missing cable was sent by courier; Priya confirmed receipt.',
    }, [
      { by: 'contact', body: 'Photo of the package contents attached to the delivery note.' },
      { by: 'user', internal: true, body: 'Packing error at the warehouse: reported to logistics (picking list SK3-0419).' },
      { by: 'user', body: 'The missing cable left today with tracking number 1Z 999 AA1 01 2345 6784.' },
      { by: 'contact', body: 'Cable received, thank you. You can close the ticket.' },
    ], [
      pdfFile('Delivery note SK-3', 'delivery-note-sk3.pdf', ['Delivery note for Acme Ltd', '1 x Sensor Kit SK-3', 'Received by: Priya Shah']),
    ]),
    ticket('acme', 'priya', {
      ticket_title: 'VPN access for remote diagnostics',
      status: 'Open',
      priority: 'Urgent',
      severity: 'Critical',
      category: 'Big Problem',
      description: 'The VPN certificate for your remote diagnostics expired yesterday; your engineers can no longer reach line 2.',
    }, []),
    ticket('acme-italia', 'giulia', {
      ticket_title: 'La stampante etichette non stampa i codici a barre',
      status: 'Open',
      priority: 'High',
      severity: 'Major',
      category: 'Big Problem',
      description: 'Da questa mattina la stampante BL-10 del magazzino stampa le etichette senza il codice a barre; il testo invece è corretto.',
    }, [
      { by: 'contact', body: 'Abbiamo già provato a spegnere e riaccendere la stampante, senza risultato.' },
      { by: 'user', body: 'Buongiorno Giulia, può inviarci una foto di un\'etichetta stampata e la pagina di configurazione della stampante?' },
      { by: 'user', internal: true, body: 'Probabile testina sporca o font barcode cancellato dopo il reset. Preparare un ricambio della testina.' },
    ], [
      textFile('Configurazione stampante BL-10', 'configurazione-bl10.txt', [
        'Modello: BL-10',
        'Firmware: 2.8.3',
        'Risoluzione: 300 dpi',
        'Font codici a barre: non trovato',
      ]),
    ]),
    ticket('acme-italia', 'luca', {
      ticket_title: 'Richiesta copia del contratto di assistenza',
      status: 'Closed',
      priority: 'Low',
      severity: 'Minor',
      category: 'Other',
      description: 'Ci serve una copia del contratto di manutenzione delle stampanti per l\'audit interno.',
      solution: 'Inviata copia del contratto in PDF via email.',
    }, [
      { by: 'contact', body: 'Grazie, ricevuto.' },
    ]),
    ticket('acme-italia', 'giulia', {
      ticket_title: 'Errore di sincronizzazione con il gestionale di magazzino',
      status: 'In Progress',
      priority: 'Normal',
      severity: 'Major',
      category: 'Big Problem',
      description: 'Le giacenze inviate dalla linea al gestionale risultano duplicate dal giorno 3.',
    }, [
      { by: 'user', body: 'Abbiamo individuato la causa: un doppio invio dopo il cambio di turno. Installeremo la correzione lunedì.' },
    ]),
    ticket('rossi', 'mario', {
      ticket_title: 'Pressa PX-200: perdita d\'olio dalla guarnizione',
      status: 'Open',
      priority: 'Urgent',
      severity: 'Critical',
      category: 'Big Problem',
      description: 'La pressa PX-200 del reparto stampaggio perde olio dal cilindro principale. La macchina è ferma.',
    }, [
      { by: 'contact', body: 'La perdita è aumentata durante il turno di notte. Allego il rapporto del manutentore.' },
      { by: 'user', body: 'Buongiorno signor Rossi, un tecnico sarà da voi domani alle 8:30 con il kit guarnizioni HS-8.' },
      { by: 'user', internal: true, body: 'Verificare che il kit HS-8 sia a magazzino a Bologna; altrimenti spedire da Milano stasera.' },
      { by: 'contact', body: 'Perfetto, avviso il capo reparto.' },
    ], [
      pdfFile('Rapporto di intervento PX-200', 'rapporto-intervento-px200.pdf', [
        'Macchina: pressa idraulica PX-200, matricola PX2-1187-0005',
        'Anomalia: perdita d\'olio dal cilindro principale',
        'Causa probabile: usura della guarnizione',
        'Redatto da: Giorgio Neri, manutentore',
      ]),
    ]),
    ticket('rossi', 'francesca', {
      ticket_title: 'Aggiornamento dati di fatturazione',
      status: 'Closed',
      priority: 'Low',
      severity: 'Minor',
      category: 'Small Problem',
      description: 'Dal primo del mese il nostro indirizzo PEC per le fatture è cambiato.',
      solution: 'Anagrafica aggiornata con il nuovo indirizzo PEC.',
    }, [
      { by: 'user', body: 'Abbiamo aggiornato i dati: le prossime fatture useranno il nuovo indirizzo.' },
    ]),
    ticket('rossi', 'paolo', {
      ticket_title: 'Manuale d\'uso in italiano per la PX-200',
      status: 'Wait For Response',
      priority: 'Normal',
      severity: 'Minor',
      category: 'Other',
      description: 'Il manuale a bordo macchina è solo in inglese; ci serve la versione italiana per i nuovi operatori.',
    }, [
      { by: 'user', body: 'Il manuale italiano è disponibile per le revisioni dal 2019. Può indicarci l\'anno di costruzione della pressa?' },
    ]),
    ticket('rossi', 'mario', {
      ticket_title: 'Ritardo nella consegna dei ricambi',
      status: 'In Progress',
      priority: 'High',
      severity: 'Major',
      category: 'Small Problem',
      description: 'L\'ordine dei ricambi per la revisione della pressa doveva arrivare la settimana scorsa.',
    }, [
      { by: 'contact', body: 'Senza i ricambi non possiamo pianificare il fermo macchina.' },
      { by: 'user', body: 'Il fornitore ci conferma la spedizione per giovedì; vi inviamo il tracking appena disponibile.' },
    ]),
    ticket('globex', 'olivia', {
      ticket_title: 'Dashboard export to CSV times out',
      status: 'In Progress',
      priority: 'High',
      severity: 'Major',
      category: 'Big Problem',
      description: 'Exporting more than three months of monitoring data to CSV fails after 60 seconds.',
    }, [
      { by: 'user', body: 'We reproduced the problem with a 90-day range and are working on a streaming export.' },
      { by: 'user', internal: true, body: 'Workaround until the fix ships: export month by month.' },
    ]),
    ticket('globex', 'marcus', {
      ticket_title: 'Add two users to the service desk portal',
      status: 'Closed',
      priority: 'Normal',
      severity: 'Minor',
      category: 'Other',
      description: 'Please give portal access to our new shift supervisors in Columbus.',
      solution: 'Access created; the supervisors received their credentials by email.',
    }, [
      { by: 'contact', body: 'Both supervisors can log in now. Thanks!' },
    ]),
    ticket('globex', 'marcus', {
      ticket_title: 'Scheduled maintenance window next month',
      status: 'Open',
      priority: 'Low',
      severity: 'Minor',
      category: 'Other',
      description: 'We would like to plan the yearly maintenance of the Columbus conveyors on a Sunday.',
    }, []),
    ticket('initech', 'samuel', {
      ticket_title: 'Cannot open new service requests',
      status: 'Wait For Response',
      priority: 'Normal',
      severity: 'Minor',
      category: 'Other',
      description: 'Our requests are refused with a message about the account status.',
    }, [
      { by: 'user', internal: true, body: 'Account blocked by Finance for overdue invoices. Do not resume service until Finance confirms payment.' },
      { by: 'user', body: 'Your account is on hold pending two open invoices. Our accounts team will contact you today.' },
    ]),
    ticket('initech', 'laura', {
      ticket_title: 'Label printer driver crashes on Windows 11',
      status: 'Closed',
      priority: 'Low',
      severity: 'Minor',
      category: 'Small Problem',
      description: 'The BL-10 driver closes the print dialog as soon as it opens.',
      solution: 'Driver 5.1.2 fixes the crash; installed remotely.',
    }, []),
    ticket('bianchi', 'anna', {
      ticket_title: 'Richiesta demo del sistema di tracciabilità lotti',
      status: 'Open',
      priority: 'Normal',
      severity: 'Minor',
      category: 'Other',
      description: 'Vorremmo vedere una dimostrazione della tracciabilità dei lotti sulla linea di confezionamento.',
    }, []),

    // ────────────────────────────────── FAQ ─────────────────────────────────
    faq('How do I reset my portal password?', 'Portal', 'Published', 'On the login page choose “I forgot my password” and enter your email address. You will receive a link that is valid for 30 minutes.'),
    faq('How can I download my invoices?', 'Billing', 'Published', 'Open Invoices from the menu on the left, select an invoice and use the download button next to the attached PDF.'),
    faq('What should I include when I open a ticket?', 'Support', 'Published', 'The machine or product, its serial number, what happened and when, and any log or photo you have. Attach files on the right of the ticket page.'),
    faq('Which firmware should LC-400 controllers run?', 'Products', 'Draft', 'Version 4.2.2 or later. Version 4.2.1 can restart during long cycles; do not install it on lines that run at night.'),
    faq('Come posso reimpostare la password del portale?', 'Portale', 'Published', 'Nella pagina di accesso scelga “Ho dimenticato la password” e inserisca il suo indirizzo email: riceverà un link valido per 30 minuti.'),
    faq('Come scarico le mie fatture?', 'Fatturazione', 'Published', 'Apra Fatture dal menu a sinistra, selezioni la fattura e usi il pulsante di download accanto al PDF allegato.'),
    faq('Quali sono gli orari del supporto telefonico?', 'Assistenza', 'Draft', 'Dal lunedì al venerdì, dalle 8:30 alle 18:00. Per i contratti Premium il servizio è attivo anche il sabato mattina.'),

    // ─────────────────────────── quotes, orders, invoices ───────────────────
    sale('Quotes', 'q-acme-line3', 'acme', 'jane', {
      subject: 'Line 3 automation upgrade',
      stage: 'Accepted',
      validtill: day(-20),
      total: 12450,
    }, [pdfFile('Quote - Line 3 automation upgrade', 'quote-line3-automation.pdf', [
      'Quote for Acme Ltd',
      '4 x Line Controller LC-400   GBP 7,560.00',
      '4 x Sensor Kit SK-3          GBP   862.00',
      '5 days on-site support       GBP 3,600.00',
      'Operator training            GBP   428.00 (discounted)',
      'Total                        GBP 12,450.00',
    ])]),
    sale('Quotes', 'q-acme-training', 'acme', 'jane', { subject: 'Operator training for the night shift', stage: 'Delivered', validtill: day(30), total: 1200 }),
    sale('Quotes', 'q-rossi-px200', 'rossi', 'mario', { subject: 'Revisione generale pressa PX-200', stage: 'Accepted', validtill: day(-5), total: 3800 }),
    sale('Quotes', 'q-rossi-seals', 'rossi', 'francesca', { subject: 'Fornitura guarnizioni HS-8 (scorta annuale)', stage: 'Reviewed', validtill: day(45), total: 946.8 }),
    sale('Quotes', 'q-globex-monitoring', 'globex', 'olivia', { subject: 'Remote monitoring for the Columbus site (12 months)', stage: 'Created', validtill: day(60), total: 2280 }),
    sale('Quotes', 'q-bianchi-demo', 'bianchi', 'anna', { subject: 'Tracciabilità lotti: linea pilota', stage: 'Rejected', validtill: day(-90), total: 15400 }),
    sale('SalesOrder', 'so-acme-line3', 'acme', 'jane', { subject: 'Line 3 automation upgrade', status: 'Delivered', duedate: day(-30), total: 12450 }, [], { quote_id: 'q-acme-line3' }),
    sale('SalesOrder', 'so-rossi-px200', 'rossi', 'mario', { subject: 'Revisione generale pressa PX-200', status: 'Approved', duedate: day(14), total: 3800 }, [], { quote_id: 'q-rossi-px200' }),
    sale('SalesOrder', 'so-acme-italia-bl10', 'acme-italia', 'giulia', { subject: 'Stampante etichette BL-10 per il magazzino', status: 'Cancelled', duedate: day(-60), total: 640 }),
    sale('Invoice', 'inv-acme-1', 'acme', 'tom', {
      subject: 'Line 3 automation upgrade - first instalment',
      status: 'Paid',
      invoicedate: day(-45),
      duedate: day(-15),
      total: 6225,
    }, [pdfFile('Invoice - Line 3 first instalment', 'invoice-line3-first-instalment.pdf', [
      'Invoice to Acme Ltd, 1 Dock Road, London',
      'Line 3 automation upgrade - first instalment (50%)',
      'Amount due: GBP 6,225.00 - PAID',
    ])], { salesorder_id: 'so-acme-line3' }),
    sale('Invoice', 'inv-acme-2', 'acme', 'tom', {
      subject: 'Line 3 automation upgrade - balance',
      status: 'Sent',
      invoicedate: day(-10),
      duedate: day(20),
      total: 6225,
    }, [], { salesorder_id: 'so-acme-line3' }),
    sale('Invoice', 'inv-rossi-1', 'rossi', 'francesca', {
      subject: 'Revisione generale pressa PX-200 - acconto',
      status: 'Approved',
      invoicedate: day(-3),
      duedate: day(57),
      total: 1900,
    }, [pdfFile('Fattura - acconto revisione PX-200', 'fattura-acconto-px200.pdf', [
      'Fattura intestata a Rossi SpA, Via dell\'Industria 12, Bologna',
      'Acconto del 50% per la revisione generale della pressa PX-200',
      'Totale: EUR 1.900,00 - pagamento a 60 giorni',
    ])], { salesorder_id: 'so-rossi-px200' }),
    sale('Invoice', 'inv-globex-1', 'globex', 'marcus', { subject: 'Service desk onboarding', status: 'Paid', invoicedate: day(-70), duedate: day(-40), total: 960 }),
    sale('Invoice', 'inv-initech-1', 'initech', 'samuel', { subject: 'Printer support, first quarter', status: 'Sent', invoicedate: day(-150), duedate: day(-120), total: 1350 }),
    sale('Invoice', 'inv-initech-2', 'initech', 'samuel', { subject: 'Printer support, second quarter', status: 'Sent', invoicedate: day(-120), duedate: day(-95), total: 1350 }),
    sale('Invoice', 'inv-acme-italia-1', 'acme-italia', 'giulia', { subject: 'Manutenzione stampanti - canone annuale', status: 'Created', invoicedate: day(0), duedate: day(30), total: 780 }),

    // ──────────────────────────────── assets ────────────────────────────────
    asset('asset-acme-l2', 'LC-400 controller, packaging line 2', 'acme', 'jane', 'lc400', 'LC4-2291-0042', 'In Service', day(-420)),
    asset('asset-acme-l1', 'LC-400 controller, packaging line 1', 'acme', 'priya', 'lc400', 'LC4-2291-0017', 'In Service', day(-700)),
    asset('asset-rossi-px', 'Pressa PX-200, reparto stampaggio', 'rossi', 'mario', 'px200', 'PX2-1187-0005', 'In Service', day(-1100)),
    asset('asset-acme-italia-bl10', 'Stampante BL-10, magazzino di Milano', 'acme-italia', 'giulia', 'bl10', 'BL10-5521-0311', 'Out-of-service', day(-500)),
    asset('asset-globex-bl10', 'BL-10 shipping desk printer', 'globex', 'marcus', 'bl10', 'BL10-5521-0977', 'In Service', day(-200)),

    // ──────────────────────────────── projects ──────────────────────────────
    project('p-acme-line3', 'Acme line 3 automation', 'acme', 'jane', 'in progress', day(-40), day(50), '40%'),
    task('p-acme-line3', 'Site survey and electrical check', 'Completed', 'Normal', day(-40), day(-35), '100%'),
    task('p-acme-line3', 'Controller installation', 'In Progress', 'High', day(-20), day(10), '60%'),
    task('p-acme-line3', 'Operator training on line 3', 'Open', 'Normal', day(30), day(31), '0%'),
    milestone('p-acme-line3', 'Line 3 in production', day(35)),
    milestone('p-acme-line3', 'Final acceptance test', day(50)),
    project('p-rossi-px200', 'Revisione generale pressa PX-200', 'rossi', 'mario', 'planned', day(14), day(28), '0%'),
    task('p-rossi-px200', 'Smontaggio e ispezione del cilindro', 'Open', 'High', day(14), day(16), '0%'),
    task('p-rossi-px200', 'Sostituzione guarnizioni e collaudo', 'Open', 'High', day(17), day(21), '0%'),
    milestone('p-rossi-px200', 'Collaudo finale con il cliente', day(28)),
    project('p-globex-monitoring', 'Globex monitoring rollout', 'globex', 'olivia', 'on hold', day(-10), day(80), '10%'),
    task('p-globex-monitoring', 'Gateway installation in Columbus', 'Deferred', 'Normal', day(-10), day(5), '30%'),
    milestone('p-globex-monitoring', 'All conveyors reporting', day(80)),

    // ─────────────────────────── service contracts ──────────────────────────
    contract('sc-acme', 'Acme Ltd premium support', 'acme', 'jane', 'In Progress', day(-200), day(165), 'Hours', 120, 46),
    contract('sc-rossi', 'Contratto di assistenza presse Rossi SpA', 'rossi', 'mario', 'In Progress', day(-90), day(275), 'Incidents', 20, 7),
    contract('sc-globex', 'Globex remote monitoring', 'globex', 'olivia', 'Planned', day(20), day(385), 'Days', 30, 0),
    contract('sc-acme-italia', 'Manutenzione stampanti Acme Italia', 'acme-italia', 'giulia', 'Complete', day(-400), day(-35), 'Incidents', 5, 5),

    // ───────────────────────────── sales pipeline ───────────────────────────
    {
      module: 'Potentials',
      ref: 'pot-acme-line4',
      links: { account_id: 'acme', contact_id: 'jane' },
      values: { potentialname: 'Acme line 4 expansion', amount: 38000, sales_stage: 'Proposal or Price Quote', closingdate: day(75) },
    },
    {
      module: 'Potentials',
      ref: 'pot-bianchi',
      links: { account_id: 'bianchi', contact_id: 'anna' },
      values: { potentialname: 'Bianchi & Figli: tracciabilità lotti', amount: 15400, sales_stage: 'Qualification', closingdate: day(120) },
    },
    {
      module: 'Vendors',
      ref: 'vendor-nordic',
      values: { vendorname: 'Nordic Components AB', email: 'orders@nordic-components.example.com', phone: '+46 8 555 010 20', website: 'https://nordic-components.example.com', category: 'Electronics' },
    },
    {
      module: 'Vendors',
      ref: 'vendor-componenti',
      values: { vendorname: 'Componenti Meccanici Srl', email: 'ordini@componenti-meccanici.example.com', phone: '+39 011 555 0170', website: 'https://componenti-meccanici.example.com', category: 'Hydraulics' },
    },

    // ───────────────────────────── custom modules ───────────────────────────
    warranty('LC-400 extended warranty LC4-2291-0042', 'jane', 'lc400', 'LC4-2291-0042', day(-420), day(310), 'Active', 'Extended to three years with the premium support contract.'),
    warranty('LC-400 warranty LC4-2291-0017', 'priya', 'lc400', 'LC4-2291-0017', day(-700), day(-335), 'Expired', 'Standard two-year warranty.'),
    warranty('Garanzia PX-200 matricola PX2-1187-0005', 'mario', 'px200', 'PX2-1187-0005', day(-1100), day(360), 'Active', 'Garanzia estesa a cinque anni sul cilindro principale.'),
    warranty('Garanzia BL-10 matricola BL10-5521-0311', 'giulia', 'bl10', 'BL10-5521-0311', day(-500), day(230), 'Void', 'Annullata: la testina è stata sostituita da terzi.'),
    kudos('Night fix on Acme line 2', 'Support', day(-2), 'Thanks to the support team for staying late to analyse the controller log with Acme.'),
    kudos('Best quarter for spare parts', 'Sales', day(-30), 'Spare-part sales up 18% on the previous quarter, led by the HS-8 seal sets.'),
    kudos('Avvio senza intoppi per Rossi SpA', 'Operations', day(-60), 'Grazie al team operativo per la consegna puntuale della seconda pressa.'),
  ];

  function contact(
    ref: string,
    account: string,
    language: 'en' | 'it',
    [firstname, lastname, email, title, mailingcity, mailingcountry]: readonly [string, string, string | null, string, string, string],
    extra: Readonly<Record<string, string>>,
    files: readonly DemoFile[] = [],
  ): DemoRecord {
    return {
      module: 'Contacts',
      ref,
      links: { account_id: account },
      values: { firstname, lastname, email, title, language, mailingcity, mailingcountry, ...extra },
      files,
    };
  }

  function product(ref: string, productname: string, category: string, unit_price: number, description: string): DemoRecord {
    return { module: 'Products', ref, values: { productname, product_no: nextNumber('Products', 101), category, unit_price, active: true, description } };
  }

  function service(ref: string, servicename: string, category: string, unit_price: number, description: string): DemoRecord {
    return { module: 'Services', ref, values: { servicename, category, unit_price, active: true, description } };
  }

  function ticket(
    account: string,
    contactRef: string,
    values: Readonly<Record<string, string>>,
    comments: readonly DemoComment[],
    files: readonly DemoFile[] = [],
  ): DemoRecord {
    return {
      module: 'HelpDesk',
      ref: `ticket:${values.ticket_title}`,
      links: { account_id: account, contact_id: contactRef },
      values: { ticket_no: nextNumber('HelpDesk', 1001), ...values },
      comments,
      files,
      staff: italianAccounts.has(account) ? 'sara.support' : 'tom.support',
    };
  }

  function faq(question: string, category: string, status: 'Published' | 'Draft', answer: string): DemoRecord {
    return { module: 'Faq', ref: `faq:${question}`, values: { question, category, status, answer } };
  }

  function sale(
    module: 'Quotes' | 'SalesOrder' | 'Invoice',
    ref: string,
    account: string,
    contactRef: string,
    values: Readonly<Record<string, FieldValue>>,
    files: readonly DemoFile[] = [],
    links: Readonly<Record<string, string>> = {},
  ): DemoRecord {
    const { field } = RECORD_NUMBER_SERIES[module]!;
    return { module, ref, links: { account_id: account, contact_id: contactRef, ...links }, values: { [field]: nextNumber(module, 1001), ...values }, files };
  }

  function asset(ref: string, assetname: string, account: string, contactRef: string, productRef: string, serialnumber: string, status: string, datesold: string): DemoRecord {
    return {
      module: 'Assets',
      ref,
      links: { account_id: account, contact_id: contactRef, product_id: productRef },
      values: { assetname, asset_no: nextNumber('Assets', 101), serialnumber, status, datesold },
    };
  }

  function project(ref: string, projectname: string, account: string, contactRef: string, status: string, startdate: string, targetenddate: string, progress: string): DemoRecord {
    return {
      module: 'Project',
      ref,
      links: { account_id: account, contact_id: contactRef },
      values: { projectname, project_no: nextNumber('Project', 101), status, startdate, targetenddate, progress },
    };
  }

  function task(projectRef: string, projecttaskname: string, status: string, priority: string, startdate: string, enddate: string, progress: string): DemoRecord {
    return {
      module: 'ProjectTask',
      ref: `task:${projecttaskname}`,
      links: { project_id: projectRef },
      values: { projecttaskname, status, priority, startdate, enddate, progress },
    };
  }

  function milestone(projectRef: string, projectmilestonename: string, milestonedate: string): DemoRecord {
    return { module: 'ProjectMilestone', ref: `milestone:${projectmilestonename}`, links: { project_id: projectRef }, values: { projectmilestonename, milestonedate } };
  }

  function contract(
    ref: string,
    subject: string,
    account: string,
    contactRef: string,
    status: string,
    start_date: string,
    due_date: string,
    tracking_unit: string,
    total_units: number,
    used_units: number,
  ): DemoRecord {
    return {
      module: 'ServiceContracts',
      ref,
      links: { account_id: account, contact_id: contactRef },
      values: { subject, contract_no: nextNumber('ServiceContracts', 101), status, start_date, due_date, tracking_unit, total_units, used_units },
    };
  }

  function warranty(warrantyname: string, contactRef: string, productRef: string, serialnumber: string, startdate: string, enddate: string, status: string, notes: string): DemoRecord {
    return {
      module: 'Warranties',
      ref: `warranty:${warrantyname}`,
      links: { contact_id: contactRef, product_id: productRef },
      values: { warrantyname, serialnumber, startdate, enddate, status, notes },
    };
  }

  function kudos(subject: string, team: string, awarded_on: string, message: string): DemoRecord {
    return { module: 'Kudos', ref: `kudos:${subject}`, values: { subject, team, awarded_on, message } };
  }
}
