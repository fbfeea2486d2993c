/**
 * The demo's two custom modules, registered the way a host developer would:
 * - `Warranties` points at Contacts (and Products), so the portal may offer it;
 * - `Kudos` (internal notes between colleagues) is related to nothing, so the portal's
 *   settings list it among the modules that are not eligible.
 */
import type { ModuleDefinition } from '../../plugin/host-contract/index.js';

const warrantiesModule: ModuleDefinition = {
  name: 'Warranties',
  label: { en: 'Warranties', it: 'Garanzie' },
  singularLabel: { en: 'Warranty', it: 'Garanzia' },
  custom: true,
  labelField: 'warrantyname',
  fields: [
    { name: 'warrantyname', label: { en: 'Warranty', it: 'Garanzia' }, type: 'text', mandatory: true, maxLength: 120 },
    { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] },
    { name: 'product_id', label: { en: 'Product', it: 'Prodotto' }, type: 'reference', mandatory: false, referenceModules: ['Products'] },
    { name: 'serialnumber', label: { en: 'Serial number', it: 'Matricola' }, type: 'text', mandatory: false, maxLength: 60 },
    { name: 'startdate', label: { en: 'Start date', it: 'Data inizio' }, type: 'date', mandatory: false },
    { name: 'enddate', label: { en: 'End date', it: 'Data fine' }, type: 'date', mandatory: false },
    {
      name: 'status',
      label: { en: 'Status', it: 'Stato' },
      type: 'picklist',
      mandatory: true,
      picklistValues: ['Active', 'Expired', 'Void'],
      picklistLabels: { Active: { en: 'Active', it: 'Attiva' }, Expired: { en: 'Expired', it: 'Scaduta' }, Void: { en: 'Void', it: 'Annullata' } },
    },
    { name: 'notes', label: { en: 'Notes', it: 'Note' }, type: 'textarea', mandatory: false },
  ],
};

const kudosModule: ModuleDefinition = {
  name: 'Kudos',
  label: { en: 'Kudos', it: 'Riconoscimenti' },
  singularLabel: { en: 'Kudos', it: 'Riconoscimento' },
  custom: true,
  labelField: 'subject',
  fields: [
    { name: 'subject', label: { en: 'Subject', it: 'Oggetto' }, type: 'text', mandatory: true, maxLength: 120 },
    { name: 'message', label: { en: 'Message', it: 'Messaggio' }, type: 'textarea', mandatory: false },
    {
      name: 'team',
      label: { en: 'Team', it: 'Team' },
      type: 'picklist',
      mandatory: false,
      picklistValues: ['Sales', 'Support', 'Operations'],
    },
    { name: 'awarded_on', label: { en: 'Awarded on', it: 'Assegnato il' }, type: 'date', mandatory: false },
  ],
};

export const demoCustomModules: readonly ModuleDefinition[] = [warrantiesModule, kudosModule];
