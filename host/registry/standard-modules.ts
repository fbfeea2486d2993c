/**
 * The standard modules of the reference CRM, with vtiger's names, English and Italian labels.
 * Picklist values are stored in English (as vtiger does); their Italian labels come with the
 * field (`picklistLabels`, contract 1.2.0), as vtiger's language files translate them.
 */
import type { FieldDefinition, FieldType, LocalizedText, ModuleDefinition, RelationDefinition } from '../../plugin/host-contract/index.js';
import type { SqlModuleRegistry } from './module-registry.js';

const t = (en: string, it: string): LocalizedText => ({ en, it });

interface FieldOptions {
  readonly mandatory?: boolean;
  readonly maxLength?: number;
  readonly values?: readonly string[];
  readonly labels?: Readonly<Record<string, LocalizedText>>;
  readonly to?: string;
}

function field(name: string, label: LocalizedText, type: FieldType, options: FieldOptions = {}): FieldDefinition {
  return {
    name,
    label,
    type,
    mandatory: options.mandatory ?? false,
    ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}),
    ...(options.values ? { picklistValues: options.values } : {}),
    ...(options.labels ? { picklistLabels: options.labels } : {}),
    ...(options.to ? { referenceModules: [options.to] } : {}),
  };
}

const ref = (name: string, label: LocalizedText, to: string, mandatory = false) => field(name, label, 'reference', { to, mandatory });
/** A picklist: its values alone, or value → label (an Italian text: the English label is the stored value). */
function pick(name: string, label: LocalizedText, values: readonly string[] | Readonly<Record<string, string | LocalizedText>>, mandatory = false): FieldDefinition {
  if (Array.isArray(values)) return field(name, label, 'picklist', { values, mandatory });
  const entries = Object.entries(values as Readonly<Record<string, string | LocalizedText>>);
  const labels = Object.fromEntries(entries.map(([value, text]) => [value, typeof text === 'string' ? t(value, text) : text]));
  return field(name, label, 'picklist', { values: entries.map(([value]) => value), labels, mandatory });
}

// Fields several modules share.
const contactRef = ref('contact_id', t('Contact', 'Contatto'), 'Contacts');
const accountRef = ref('account_id', t('Organization', 'Azienda'), 'Accounts');
const description = field('description', t('Description', 'Descrizione'), 'textarea');
const total = field('total', t('Total', 'Totale'), 'currency');
const category = field('category', t('Category', 'Categoria'), 'text');
const unitPrice = field('unit_price', t('Unit price', 'Prezzo unitario'), 'currency');
const active = field('active', t('Active', 'Attivo'), 'boolean');
const email = field('email', t('Email', 'Email'), 'email');
const phone = field('phone', t('Phone', 'Telefono'), 'phone');
const website = field('website', t('Website', 'Sito web'), 'url');
const progress = pick('progress', t('Progress', 'Avanzamento'), Array.from({ length: 11 }, (_, i) => `${i * 10}%`));
const taskStatus = pick('status', t('Status', 'Stato'), { Open: 'Aperta', 'In Progress': 'In corso', Completed: 'Completata', Deferred: 'Rinviata', Canceled: 'Annullata' });
const taskPriority = pick('priority', t('Priority', 'Priorità'), { Low: 'Bassa', Normal: 'Normale', High: 'Alta' });

function module(name: string, label: LocalizedText, singularLabel: LocalizedText, labelField: string, fields: readonly FieldDefinition[]): ModuleDefinition {
  return { name, label, singularLabel, custom: false, labelField, fields };
}

/** In dependency order: a module comes after the modules its reference fields point at. */
export const STANDARD_MODULES: readonly ModuleDefinition[] = [
  module('Accounts', t('Organizations', 'Aziende'), t('Organization', 'Azienda'), 'accountname', [
    field('accountname', t('Organization name', 'Nome azienda'), 'text', { mandatory: true }),
    ref('parent_id', t('Member of', 'Membro di'), 'Accounts'),
    field('industry', t('Industry', 'Settore'), 'text'),
    phone,
    email,
    website,
    field('city', t('City', 'Città'), 'text'),
    field('country', t('Country', 'Nazione'), 'text'),
    pick('status', t('Status', 'Stato'), { Active: 'Attiva', Blocked: 'Bloccata', Prospect: 'Potenziale' }),
    description,
  ]),
  module('Contacts', t('Contacts', 'Contatti'), t('Contact', 'Contatto'), 'lastname', [
    field('firstname', t('First name', 'Nome'), 'text', { maxLength: 80 }),
    field('lastname', t('Last name', 'Cognome'), 'text', { mandatory: true, maxLength: 80 }),
    email,
    phone,
    field('mobile', t('Mobile', 'Cellulare'), 'phone'),
    field('title', t('Title', 'Qualifica'), 'text'),
    accountRef,
    pick('language', t('Language', 'Lingua'), { en: t('English', 'Inglese'), it: t('Italian', 'Italiano') }),
    field('mailingcity', t('Mailing city', 'Città (indirizzo)'), 'text'),
    field('mailingcountry', t('Mailing country', 'Nazione (indirizzo)'), 'text'),
    description,
  ]),
  module('HelpDesk', t('Trouble Tickets', 'Ticket di assistenza'), t('Ticket', 'Ticket'), 'ticket_title', [
    field('ticket_no', t('Ticket number', 'Numero ticket'), 'text', { maxLength: 40 }),
    field('ticket_title', t('Title', 'Titolo'), 'text', { mandatory: true }),
    contactRef,
    accountRef,
    pick('status', t('Status', 'Stato'), { Open: 'Aperto', 'In Progress': 'In lavorazione', 'Wait For Response': 'In attesa di risposta', Closed: 'Chiuso' }, true),
    pick('priority', t('Priority', 'Priorità'), { Low: 'Bassa', Normal: 'Normale', High: 'Alta', Urgent: 'Urgente' }),
    pick('severity', t('Severity', 'Gravità'), { Minor: 'Lieve', Major: 'Grave', Critical: 'Critica' }),
    pick('category', t('Category', 'Categoria'), { 'Small Problem': 'Problema minore', 'Big Problem': 'Problema grave', Other: 'Altro' }),
    description,
    field('solution', t('Solution', 'Soluzione'), 'textarea'),
  ]),
  module('Faq', t('FAQ', 'FAQ'), t('FAQ', 'FAQ'), 'question', [
    field('question', t('Question', 'Domanda'), 'textarea', { mandatory: true }),
    field('answer', t('Answer', 'Risposta'), 'textarea'),
    category,
    pick('status', t('Status', 'Stato'), { Draft: 'Bozza', Published: 'Pubblicata' }),
  ]),
  module('Products', t('Products', 'Prodotti'), t('Product', 'Prodotto'), 'productname', [
    field('productname', t('Product name', 'Nome prodotto'), 'text', { mandatory: true }),
    field('product_no', t('Product number', 'Codice prodotto'), 'text', { maxLength: 40 }),
    category,
    unitPrice,
    active,
    description,
  ]),
  module('Services', t('Services', 'Servizi'), t('Service', 'Servizio'), 'servicename', [
    field('servicename', t('Service name', 'Nome servizio'), 'text', { mandatory: true }),
    category,
    unitPrice,
    active,
    description,
  ]),
  module('Potentials', t('Opportunities', 'Opportunità'), t('Opportunity', 'Opportunità'), 'potentialname', [
    field('potentialname', t('Opportunity name', 'Nome opportunità'), 'text', { mandatory: true }),
    accountRef,
    contactRef,
    field('amount', t('Amount', 'Importo'), 'currency'),
    pick('sales_stage', t('Sales stage', 'Fase di vendita'), {
      Prospecting: 'Prospezione',
      Qualification: 'Qualificazione',
      'Needs Analysis': 'Analisi dei bisogni',
      'Value Proposition': 'Proposta di valore',
      'Id. Decision Makers': 'Individuazione dei decisori',
      'Perception Analysis': 'Analisi della percezione',
      'Proposal or Price Quote': 'Proposta o preventivo',
      'Negotiation or Review': 'Trattativa o revisione',
      'Closed Won': 'Chiusa vinta',
      'Closed Lost': 'Chiusa persa',
    }),
    field('closingdate', t('Expected close date', 'Data chiusura prevista'), 'date'),
  ]),
  module('Quotes', t('Quotes', 'Preventivi'), t('Quote', 'Preventivo'), 'subject', [
    field('subject', t('Subject', 'Oggetto'), 'text', { mandatory: true }),
    field('quote_no', t('Quote number', 'Numero preventivo'), 'text', { maxLength: 40 }),
    contactRef,
    accountRef,
    ref('potential_id', t('Opportunity', 'Opportunità'), 'Potentials'),
    pick('stage', t('Quote stage', 'Fase preventivo'), { Created: 'Creato', Delivered: 'Consegnato', Reviewed: 'Rivisto', Accepted: 'Accettato', Rejected: 'Rifiutato' }),
    field('validtill', t('Valid until', 'Valido fino al'), 'date'),
    total,
  ]),
  module('SalesOrder', t('Sales Orders', 'Ordini di vendita'), t('Sales Order', 'Ordine di vendita'), 'subject', [
    field('subject', t('Subject', 'Oggetto'), 'text', { mandatory: true }),
    field('salesorder_no', t('Sales order number', 'Numero ordine'), 'text', { maxLength: 40 }),
    contactRef,
    accountRef,
    ref('quote_id', t('Quote', 'Preventivo'), 'Quotes'),
    pick('status', t('Status', 'Stato'), { Created: 'Creato', Approved: 'Approvato', Delivered: 'Consegnato', Cancelled: 'Annullato' }),
    field('duedate', t('Due date', 'Data di scadenza'), 'date'),
    total,
  ]),
  module('Invoice', t('Invoices', 'Fatture'), t('Invoice', 'Fattura'), 'subject', [
    field('subject', t('Subject', 'Oggetto'), 'text', { mandatory: true }),
    field('invoice_no', t('Invoice number', 'Numero fattura'), 'text', { maxLength: 40 }),
    contactRef,
    accountRef,
    ref('salesorder_id', t('Sales order', 'Ordine di vendita'), 'SalesOrder'),
    field('invoicedate', t('Invoice date', 'Data fattura'), 'date'),
    field('duedate', t('Due date', 'Data di scadenza'), 'date'),
    pick('status', t('Status', 'Stato'), { Created: 'Creata', Approved: 'Approvata', Sent: 'Inviata', Paid: 'Pagata', Cancelled: 'Annullata' }),
    total,
  ]),
  module('Assets', t('Assets', 'Beni'), t('Asset', 'Bene'), 'assetname', [
    field('assetname', t('Asset name', 'Nome bene'), 'text', { mandatory: true }),
    field('asset_no', t('Asset number', 'Numero bene'), 'text', { maxLength: 40 }),
    accountRef,
    contactRef,
    ref('product_id', t('Product', 'Prodotto'), 'Products'),
    field('serialnumber', t('Serial number', 'Numero di serie'), 'text'),
    pick('status', t('Status', 'Stato'), { 'In Service': 'In servizio', 'Out-of-service': 'Fuori servizio' }),
    field('datesold', t('Date sold', 'Data di vendita'), 'date'),
  ]),
  module('Project', t('Projects', 'Progetti'), t('Project', 'Progetto'), 'projectname', [
    field('projectname', t('Project name', 'Nome progetto'), 'text', { mandatory: true }),
    field('project_no', t('Project number', 'Numero progetto'), 'text', { maxLength: 40 }),
    accountRef,
    contactRef,
    pick('status', t('Status', 'Stato'), { planned: 'pianificato', 'in progress': 'in corso', completed: 'completato', 'on hold': 'sospeso' }),
    field('startdate', t('Start date', 'Data di inizio'), 'date'),
    field('targetenddate', t('Target end date', 'Data di fine prevista'), 'date'),
    progress,
  ]),
  module('ProjectTask', t('Project Tasks', 'Attività di progetto'), t('Project Task', 'Attività di progetto'), 'projecttaskname', [
    field('projecttaskname', t('Task name', 'Nome attività'), 'text', { mandatory: true }),
    ref('project_id', t('Project', 'Progetto'), 'Project', true),
    taskStatus,
    taskPriority,
    field('startdate', t('Start date', 'Data di inizio'), 'date'),
    field('enddate', t('End date', 'Data di fine'), 'date'),
    progress,
  ]),
  module('ProjectMilestone', t('Project Milestones', 'Milestone di progetto'), t('Project Milestone', 'Milestone di progetto'), 'projectmilestonename', [
    field('projectmilestonename', t('Milestone name', 'Nome milestone'), 'text', { mandatory: true }),
    ref('project_id', t('Project', 'Progetto'), 'Project', true),
    field('milestonedate', t('Milestone date', 'Data milestone'), 'date'),
  ]),
  module('ServiceContracts', t('Service Contracts', 'Contratti di servizio'), t('Service Contract', 'Contratto di servizio'), 'subject', [
    field('subject', t('Subject', 'Oggetto'), 'text', { mandatory: true }),
    field('contract_no', t('Contract number', 'Numero contratto'), 'text', { maxLength: 40 }),
    accountRef,
    contactRef,
    pick('status', t('Status', 'Stato'), { Planned: 'Pianificato', 'In Progress': 'In corso', Complete: 'Completato' }),
    field('start_date', t('Start date', 'Data di inizio'), 'date'),
    field('due_date', t('Due date', 'Data di scadenza'), 'date'),
    pick('tracking_unit', t('Tracking unit', 'Unità di misura'), { Hours: 'Ore', Days: 'Giorni', Incidents: 'Interventi' }),
    field('total_units', t('Total units', 'Unità totali'), 'decimal'),
    field('used_units', t('Used units', 'Unità usate'), 'decimal'),
  ]),
  module('Vendors', t('Vendors', 'Fornitori'), t('Vendor', 'Fornitore'), 'vendorname', [
    field('vendorname', t('Vendor name', 'Nome fornitore'), 'text', { mandatory: true }),
    email,
    phone,
    website,
    category,
  ]),
  module('Documents', t('Documents', 'Documenti'), t('Document', 'Documento'), 'title', [
    field('title', t('Title', 'Titolo'), 'text', { mandatory: true }),
    field('filename', t('File name', 'Nome file'), 'text'),
    field('filesize', t('File size', 'Dimensione file'), 'integer'),
    field('mimetype', t('File type', 'Tipo file'), 'text', { maxLength: 100 }),
    field('notes', t('Notes', 'Note'), 'textarea'),
    field('folder', t('Folder', 'Cartella'), 'text'),
    // The generated name of the stored file: managed by the record store, never written by clients.
    field('storage_key', t('Storage key', 'Chiave di archiviazione'), 'text', { maxLength: 64 }),
  ]),
];

const list = (module: string, relatedModule: string, label: LocalizedText): RelationDefinition => ({
  id: `${module}~${relatedModule}`,
  kind: 'related-list',
  module,
  relatedModule,
  label,
});

const documentsLabel = t('Documents', 'Documenti');

/** The standard related lists (many-to-many). */
export const STANDARD_RELATED_LISTS: readonly RelationDefinition[] = [
  list('Documents', 'Contacts', documentsLabel),
  list('Documents', 'Accounts', documentsLabel),
  list('Documents', 'HelpDesk', documentsLabel),
  list('Documents', 'Project', documentsLabel),
  list('Documents', 'Invoice', documentsLabel),
  list('Documents', 'Quotes', documentsLabel),
  list('Services', 'Accounts', t('Services', 'Servizi')),
  list('Vendors', 'Contacts', t('Contacts', 'Contatti')),
];

/**
 * Registers the standard modules and related lists that are missing (idempotent: a second call
 * changes nothing). Modules a host developer removed on purpose come back on the next call.
 */
export async function seedStandardModules(registry: SqlModuleRegistry): Promise<void> {
  await registry.sync();
  for (const definition of STANDARD_MODULES) {
    if (!registry.module(definition.name)) await registry.registerModule(definition);
  }
  for (const relation of STANDARD_RELATED_LISTS) {
    const present = registry
      .relations(relation.module)
      .some((r) => r.kind === 'related-list' && [r.module, r.relatedModule].sort().join() === [relation.module, relation.relatedModule].sort().join());
    if (!present) await registry.addRelation(relation);
  }
}
