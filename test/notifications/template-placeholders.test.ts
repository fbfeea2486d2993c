/**
 * Which required merge fields each template lacks, checked for every template at once (a page
 * offering them all) the same as one by one: on the reference host (contract 1.6.0, every version
 * read in one statement) and on a host before 1.6.0 (no `renderVersions`: template by template).
 */
import { expect } from 'chai';
import type { EmailTemplate, HostApi, HostEmailTemplates } from '../../plugin/host-contract/index.js';
import { placeholdersMissing, placeholdersMissingEach } from '../../plugin/notifications/template-placeholders.js';
import { addEmailTemplate } from '../profiles/profile-test-kit.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { recordStatements } from '../support/database.js';

type Missing = Record<string, string[]>;

/** The answer by template name, each list sorted: comparable with deep equality. */
function byName(templates: readonly EmailTemplate[], missing: ReadonlyMap<number, ReadonlySet<string>>): Missing {
  return Object.fromEntries(templates.map((t) => [t.name, [...(missing.get(t.id) ?? ['(not answered)'])].sort()]));
}

describe('notifications: what each template lacks, checked all at once @db', function () {
  this.timeout(60_000);
  let test: TestHost;
  let api: HostApi;

  before(async () => {
    test = await startTestHost();
    api = test.host.api;
    const sequelize = api.database.sequelize;
    const version = async (id: number, language: string, text: string) =>
      sequelize.query('INSERT INTO crm_email_template_versions (template_id, language, subject, html, text, updated_at) VALUES (:id, :language, :s, :h, :t, :now)', {
        replacements: { id, language, s: 'Subject', h: `<p>${text}</p>`, t: text, now: new Date() },
      });
    await addEmailTemplate(api, { name: 'Check: both', module: 'Contacts', subject: 'Both', body: '{{portal.password}} {{portal.resetUrl}}' });
    await addEmailTemplate(api, { name: 'Check: password', module: 'Contacts', subject: 'Password', body: 'Password {{portal.password}}' });
    // The reset link in English only: lacking in Italian is lacking.
    const reset = await addEmailTemplate(api, { name: 'Check: reset in English', module: 'Contacts', subject: 'Reset', body: '{{portal.resetUrl}} {{portal.password}}' });
    await version(reset, 'it', 'Password {{portal.password}}');
    // An Italian version that cannot be rendered merges nothing.
    const broken = await addEmailTemplate(api, { name: 'Check: broken Italian', module: 'Contacts', subject: 'Broken', body: '{{portal.resetUrl}} {{portal.password}}' });
    await version(broken, 'it', '{{#if portal.password}} never closed');
    // A template without any version.
    await sequelize.query("INSERT INTO crm_email_templates (name, description, module, default_language, created_at, updated_at) VALUES ('Check: no version', '', 'Contacts', 'en', :now, :now)", {
      replacements: { now: new Date() },
    });
  });
  after(async () => {
    await test?.stop();
  });

  it('answers for every template what checking each on its own answers, on a host of 1.6.0 and on an older one', async () => {
    const templates = await api.emailTemplates.templates();
    const oneByOne: Record<string, string[]> = {};
    for (const template of templates) oneByOne[template.name] = [...(await placeholdersMissing(api.emailTemplates, template))].sort();
    expect(oneByOne).to.deep.include({
      'Check: both': [],
      'Check: password': ['portal.resetUrl'],
      'Check: reset in English': ['portal.resetUrl'],
      'Check: broken Italian': ['portal.password', 'portal.resetUrl'],
      'Check: no version': ['portal.password', 'portal.resetUrl'],
    });

    expect(byName(templates, await placeholdersMissingEach(api.emailTemplates, templates)), 'contract 1.6.0').to.deep.equal(oneByOne);
    const base = api.emailTemplates;
    const before16: HostEmailTemplates = { templates: () => base.templates(), template: (id) => base.template(id), render: (id, language, data) => base.render(id, language, data) };
    expect(byName(templates, await placeholdersMissingEach(before16, templates)), 'a host before 1.6.0').to.deep.equal(oneByOne);
    expect(byName([], await placeholdersMissingEach(api.emailTemplates, []))).to.deep.equal({});
  });

  it('reads every version in one statement on the reference host', async () => {
    const templates = await api.emailTemplates.templates();
    const recorded = recordStatements(api.database.sequelize);
    const statements = recorded.sql;
    try {
      await placeholdersMissingEach(api.emailTemplates, templates);
    } finally {
      recorded.stop();
    }
    expect(templates.length).to.be.above(5);
    expect(statements, statements.join('\n')).to.have.length(1);
  });
});
