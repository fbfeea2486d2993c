/**
 * The privileges page in headless Chromium: an admin signs in, adds a home button (watching the
 * live preview), swaps two buttons by dragging them (SortableJS), moves a list column with the
 * keyboard buttons, adds a portal-only conditional rule, hides a field that is a list column and
 * reads the server's notice, then reloads and finds everything saved; the profile pages on a phone
 * (tap targets) and axe-core; the editor by keyboard alone; an owner and a template removed from
 * the CRM stay chosen, marked, when their sections are saved. Screenshots (desktop and a 390 px phone)
 * go to `test-artifacts/privileges/`.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { artifactsDir, releaseChromium, sharedChromium, signInToCrm, skipWithoutChromium } from '../support/browser.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { seriousViolations, smallTapTargets, tabTo, waitUntilTrue } from '../support/page-checks.js';
import { addEmailTemplate, addWideModule, adminActor, deleteEmailTemplate, profileService, SETTINGS } from './profile-test-kit.js';

const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } } as const;

describe('privileges page in a browser', function () {
  this.timeout(120_000);
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let browser: Browser;
  let profileId: number;
  let artifacts: string;

  before(async function () {
    skipWithoutChromium(this);
    artifacts = artifactsDir('privileges');
    test = await startTestHost();
    api = test.host.api;
    service = profileService(api);
    const actor = await adminActor(api);
    const profile = await service.create({ name: 'Resellers', description: 'Partners who resell our services', startFrom: null }, actor);
    profileId = profile.id;
    let version = profile.version;
    const save = async (section: Parameters<DatabaseProfileService['saveSection']>[1], value: unknown) => {
      version = (await service.saveSection(profileId, section, value, version, actor)).document.profile.version;
    };
    const tools = { comments: true, documents: true, search: true, export: false };
    await save('modules', [
      { module: 'HelpDesk', shown: true, view: true, create: true, edit: true, delete: false, scope: 'account', tools, listColumns: ['ticket_title', 'status', 'priority'] },
      { module: 'Faq', shown: true, view: true, create: false, edit: false, delete: false, scope: 'contact', tools, listColumns: ['question'] },
    ]);
    await save('buttons', [
      { title: 'My tickets', description: 'Follow your requests', colour: 'info', icon: 'ticket', action: 'list', module: 'HelpDesk' },
      { title: 'Knowledge base', description: 'Answers to common questions', colour: 'secondary', icon: 'question', action: 'list', module: 'Faq' },
    ]);
    browser = await sharedChromium();
  });
  after(async () => {
    await releaseChromium(browser);
    await test?.stop();
  });

  async function shoot(page: Page, name: string): Promise<void> {
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      await page.setViewportSize(viewport);
      await page.screenshot({ path: join(artifacts, `${name}-${size}.png`), fullPage: true });
    }
    await page.setViewportSize(VIEWPORTS.desktop);
  }

  /** A new browser context signed in as the admin on the profile's privileges page, with `section` ready to save. */
  async function signedInOnPrivileges(section: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
    const page = await context.newPage();
    await signInToCrm(page, `${test.url}${SETTINGS}/profiles/${profileId}/privileges`);
    await page.waitForSelector(`[data-bp-section="${section}"] [data-bp-save]:not([disabled])`);
    return { context, page };
  }

  const buttonTitles = (page: Page) => page.locator('[data-bp-buttons] [data-bp-preview-title]').allTextContents();
  /** A module's fields and columns, once its part was opened and they arrived. */
  const moduleFields = (page: Page, module = 'HelpDesk') => page.locator(`[data-bp-module="${module}"] [data-bp-module-fields-body]`).waitFor({ state: 'attached' });
  const columns = async (page: Page) => {
    await moduleFields(page);
    return page.locator('[data-bp-module="HelpDesk"] [data-bp-columns] > li').evaluateAll((items) => items.map((li) => li.getAttribute('data-bp-column')));
  };

  /** Drags `from`'s handle below `to` with the mouse in small steps (SortableJS's pointer mode). */
  async function drag(page: Page, from: string, to: string): Promise<void> {
    const handle = await page.locator(from).boundingBox();
    const target = await page.locator(to).boundingBox();
    if (!handle || !target) throw new Error('nothing to drag');
    await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await page.mouse.down();
    await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2 + 8, { steps: 4 });
    await page.mouse.move(target.x + target.width / 2, target.y + target.height * 0.8, { steps: 15 });
    await page.waitForTimeout(200);
    await page.mouse.up();
  }

  it('adds a button, reorders by drag and drop and keyboard, adds a rule, hides a list column; all saved after a reload', async () => {
    const context = await browser.newContext({ viewport: VIEWPORTS.desktop, locale: 'en-GB' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      // The reference host has no favicon: not this page's concern.
      if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) errors.push(`${message.text()} ${message.location().url}`);
    });
    const url = `${test.url}${SETTINGS}/profiles/${profileId}/privileges`;

    // Anonymous: the CRM login first, then back to the page.
    await signInToCrm(page, url);
    expect(await page.locator('h1').textContent()).to.equal('Privileges: Resellers');
    // The script enables the Save buttons once it runs.
    await page.waitForSelector('[data-bp-section="buttons"] [data-bp-save]:not([disabled])');
    await shoot(page, '01-loaded');

    // A new button, with its live preview.
    await page.click('[data-bp-add-button]');
    const added = page.locator('[data-bp-buttons] > li').nth(2);
    await added.locator('[data-bp-input="title"]').fill('New ticket');
    await added.locator('[data-bp-input="description"]').fill('Ask our support team');
    // Its text for Italian customers (the CRM's other language): title only, the description left blank.
    await added.locator('[data-bp-translation="it"][data-bp-part="title"]').fill('Nuovo ticket');
    await added.locator('[data-bp-input="colour"]').selectOption('success');
    await added.locator('[data-bp-input="icon"]').selectOption('plus');
    await added.locator('[data-bp-input="action"]').selectOption('create');
    // "Create" offers only modules the profile may create in: FAQ is not one of them.
    expect(await added.locator('[data-bp-input="module"] option[value="Faq"]').isDisabled()).to.equal(true);
    await added.locator('[data-bp-input="module"]').selectOption('HelpDesk');
    expect(await added.locator('[data-bp-preview-title]').textContent()).to.equal('New ticket');
    await added.screenshot({ path: join(artifacts, 'button-editor-desktop.png') });
    expect(await added.locator('[data-bp-preview]').getAttribute('class')).to.include('bp-colour-success');
    expect(await added.locator('[data-bp-preview] use').getAttribute('href')).to.equal('#bp-icon-plus');
    expect(await page.locator('[data-bp-section="buttons"] [data-bp-dirty]').isVisible()).to.equal(true);

    // Swap the first two buttons by dragging the first one's handle below the second.
    expect(await buttonTitles(page)).to.deep.equal(['My tickets', 'Knowledge base', 'New ticket']);
    await drag(page, '[data-bp-buttons] > li:nth-child(1) [data-bp-drag]', '[data-bp-buttons] > li:nth-child(2)');
    expect(await buttonTitles(page)).to.deep.equal(['Knowledge base', 'My tickets', 'New ticket']);
    await shoot(page, '02-buttons-edited');

    await page.click('[data-bp-section="buttons"] [data-bp-save]');
    const buttonsStatus = page.locator('[data-bp-section="buttons"] [data-bp-status]');
    await buttonsStatus.locator('text=Saved.').waitFor();
    expect(await page.locator('[data-bp-section="buttons"] [data-bp-dirty]').isVisible()).to.equal(false);
    // The section was drawn again (its Save gone, disabled): the focus goes on from the status, not lost.
    expect(await page.locator('[data-bp-section="buttons"] [data-bp-status]:focus').count()).to.equal(1);

    // A portal-only rule: when Status = Closed, Solution is read-only.
    await page.click('[data-bp-subform="new-rule"] > summary');
    // An incomplete rule is refused aloud, through the page's live region.
    await page.click('[data-bp-add-rule]');
    await page.locator('[data-bp-announce]', { hasText: 'Give the rule a name' }).waitFor({ state: 'attached' });
    // Removing a row keeps the keyboard in the list: on the next row's Remove, else on its Add button.
    await page.click('[data-bp-add-condition]');
    await page.locator('[data-bp-conditions] > li').nth(1).locator('[data-bp-remove-row]').press('Enter');
    expect(await page.locator('[data-bp-conditions] > li').count()).to.equal(1);
    expect(await page.locator('[data-bp-conditions] > li [data-bp-remove-row]:focus').count()).to.equal(1);
    await page.click('[data-bp-add-effect]');
    await page.locator('[data-bp-effects] [data-bp-remove-row]').press('Enter');
    expect(await page.locator('[data-bp-add-effect]:focus').count()).to.equal(1);
    await page.fill('[data-bp-rule-name]', 'Closed tickets keep their solution');
    await page.selectOption('[data-bp-rule-module]', 'HelpDesk');
    const condition = page.locator('[data-bp-conditions] > li').first();
    await condition.locator('[data-bp-cond-field]').selectOption('status');
    await condition.locator('[data-bp-cond-op]').selectOption('eq');
    await condition.locator('[data-bp-cond-value]').fill('Closed');
    await page.click('[data-bp-add-effect]');
    const effect = page.locator('[data-bp-effects] > li').first();
    await effect.locator('[data-bp-effect-field]').selectOption('solution');
    await effect.locator('[data-bp-effect-kind]').selectOption('readonly');
    await page.click('[data-bp-add-rule]');
    expect(await page.locator('[data-bp-rules] > li').count()).to.equal(1);
    await page.click('[data-bp-section="rules"] [data-bp-save]');
    await page.locator('[data-bp-section="rules"] [data-bp-status]').locator('text=Saved.').waitFor();

    // Per module: move a column up with the keyboard buttons, then hide a field that is a list column.
    await page.click('[data-bp-details="HelpDesk"] > summary');
    expect(await columns(page)).to.deep.equal(['ticket_title', 'status', 'priority']);
    await page.locator('[data-bp-module="HelpDesk"] [data-bp-column="priority"] [data-bp-move="up"]').click();
    expect(await columns(page)).to.deep.equal(['ticket_title', 'priority', 'status']);
    await page.selectOption('#bp-field-HelpDesk-status', 'hidden');
    await page.click('[data-bp-section="modules"] [data-bp-save]');
    const modulesStatus = page.locator('[data-bp-section="modules"] [data-bp-status]');
    await modulesStatus.locator('text=Saved.').waitFor();
    expect(await modulesStatus.textContent()).to.include('Hidden fields cannot be list columns; these columns were removed: Trouble Tickets › Status.');
    // The section is drawn again from what the server stored: the column is gone at once.
    expect(await columns(page)).to.deep.equal(['ticket_title', 'priority']);
    await shoot(page, '03-saved-with-notice');
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      await page.setViewportSize(viewport);
      for (const section of ['general', 'notifications', 'buttons', 'rules', 'globals', 'modules']) {
        await page.locator(`[data-bp-section="${section}"]`).screenshot({ path: join(artifacts, `section-${section}-${size}.png`) });
      }
      for (const module of ['Accounts', 'HelpDesk']) {
        await page.locator(`[data-bp-module="${module}"]`).screenshot({ path: join(artifacts, `module-${module}-${size}.png`) });
      }
    }
    await page.setViewportSize(VIEWPORTS.desktop);

    // Reload: everything is there.
    await page.reload();
    expect(await buttonTitles(page)).to.deep.equal(['Knowledge base', 'My tickets', 'New ticket']);
    await page.click('[data-bp-details="HelpDesk"] > summary');
    expect(await columns(page)).to.deep.equal(['ticket_title', 'priority']);
    expect(await page.inputValue('#bp-field-HelpDesk-status')).to.equal('hidden');
    expect(await page.locator('[data-bp-rules] > li').first().textContent()).to.include('Closed tickets keep their solution');

    const stored = await service.document(profileId);
    expect(stored.buttons.map((b) => b.title)).to.deep.equal(['Knowledge base', 'My tickets', 'New ticket']);
    expect(stored.buttons[2]).to.deep.equal({
      title: 'New ticket',
      description: 'Ask our support team',
      translations: { it: { title: 'Nuovo ticket', description: '' } },
      colour: 'success',
      icon: 'plus',
      action: 'create',
      module: 'HelpDesk',
    });
    expect(stored.buttons[0]).not.to.have.property('translations');
    expect(await page.locator('[data-bp-buttons] > li').nth(2).locator('[data-bp-translation="it"][data-bp-part="title"]').inputValue()).to.equal('Nuovo ticket');
    expect(stored.rules[0]).to.deep.include({ name: 'Closed tickets keep their solution', module: 'HelpDesk', origin: { kind: 'portal' }, allReadOnly: false });
    expect(stored.rules[0]!.conditions).to.deep.equal([{ field: 'status', op: 'eq', value: 'Closed' }]);
    expect(stored.rules[0]!.effects).to.deep.equal([{ field: 'solution', effect: 'readonly' }]);
    const helpDesk = stored.modules.find((m) => m.module === 'HelpDesk')!;
    expect(helpDesk.fields.status).to.equal('hidden');
    expect(helpDesk.listColumns).to.deep.equal(['ticket_title', 'priority']);

    // The profile page's audit shows the changes.
    await page.goto(`${test.url}${SETTINGS}/profiles/${profileId}`);
    expect(await page.locator('tr[data-audit-action="save"]').count()).to.be.at.least(3);
    await page.goto(url);
    await shoot(page, '04-reloaded');
    // On a phone the page does not scroll sideways.
    await page.setViewportSize(VIEWPORTS.phone);
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    expect(overflow, 'horizontal overflow at 390 px').to.be.at.most(0);
    expect(errors, 'errors in the browser console').to.deep.equal([]);
    await context.close();
  });

  it('imports rules from another profile and from the CRM, keeping where they came from', async () => {
    const actor = await adminActor(api);
    const source = await service.create({ name: 'Installers', description: '', startFrom: null }, actor);
    const tools = { comments: false, documents: false, search: false, export: false };
    let version = (await service.saveSection(source.id, 'modules', [{ module: 'HelpDesk', shown: true, view: true, create: false, edit: false, delete: false, scope: 'contact', tools }], source.version, actor)).document.profile.version;
    version = (
      await service.saveSection(
        source.id,
        'rules',
        [{ name: 'Urgent needs a category', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'priority', op: 'eq', value: 'Urgent' }], effects: [{ field: 'category', effect: 'mandatory' }], allReadOnly: false }],
        version,
        actor,
      )
    ).document.profile.version;
    const crmRule = (await api.conditionalRules.rules('HelpDesk')).find((rule) => rule.name === 'The solution of a closed ticket is final')!;
    const before = (await service.document(profileId)).rules.length;

    const { context, page } = await signedInOnPrivileges('rules');

    await page.click('[data-bp-subform="import-profile"] > summary');
    await page.selectOption('[data-bp-import-profile]', String(source.id));
    await page.click('[data-bp-import-profile-go]');
    await page.locator('[data-bp-rules] > li', { hasText: 'Urgent needs a category' }).waitFor();
    expect(await page.locator('[data-bp-rules] > li', { hasText: 'Urgent needs a category' }).textContent()).to.include('From the profile Installers');

    await page.click('[data-bp-subform="import-crm"] > summary');
    await page.check(`#bp-crm-rule-${crmRule.id}`);
    await page.click('[data-bp-import-crm]');
    expect(await page.locator('[data-bp-rules] > li', { hasText: crmRule.name }).textContent()).to.include('From the CRM');
    await page.locator('[data-bp-section="rules"]').screenshot({ path: join(artifacts, '06-rules-imported.png') });

    await page.click('[data-bp-section="rules"] [data-bp-save]');
    await page.locator('[data-bp-section="rules"] [data-bp-status]').locator('text=Saved.').waitFor();
    const rules = (await service.document(profileId)).rules;
    expect(rules.length).to.equal(before + 2);
    expect(rules.find((r) => r.name === 'Urgent needs a category')!.origin).to.deep.equal({ kind: 'profile', profileName: 'Installers' });
    expect(rules.find((r) => r.name === crmRule.name)).to.deep.include({ origin: { kind: 'crm', ruleId: crmRule.id }, module: 'HelpDesk', allReadOnly: crmRule.allReadOnly });
    // The source profile is unchanged.
    expect((await service.document(source.id)).profile.version).to.equal(version);
    await context.close();
  });

  it('edits a rule in place: the form loads it, Cancel leaves it, Update replaces it where it was', async () => {
    const before = (await service.document(profileId)).rules;
    const at = before.findIndex((r) => r.name === 'Urgent needs a category');
    expect(at, 'the rule imported above').to.be.at.least(0);
    const { context, page } = await signedInOnPrivileges('rules');
    const form = page.locator('[data-bp-subform="new-rule"]');
    const item = () => page.locator('[data-bp-rules] > li').nth(at);

    await item().locator('[data-bp-edit-rule]').click();
    // The form opens once the rule's module's fields are here (asked for the first time).
    await form.locator('summary', { hasText: 'Edit the rule' }).waitFor();
    expect(await form.getAttribute('open')).to.not.equal(null);
    expect(await form.locator('summary').textContent()).to.equal('Edit the rule “Urgent needs a category”');
    expect(await page.inputValue('[data-bp-rule-name]')).to.equal('Urgent needs a category');
    expect(await page.inputValue('[data-bp-rule-module]')).to.equal('HelpDesk');
    expect(await form.locator('[data-bp-condition]').count()).to.equal(1);
    expect(await page.inputValue('[data-bp-condition] [data-bp-cond-field]')).to.equal('priority');
    expect(await page.inputValue('[data-bp-condition] [data-bp-cond-op]')).to.equal('eq');
    expect(await page.inputValue('[data-bp-condition] [data-bp-cond-value]')).to.equal('Urgent');
    expect(await page.inputValue('[data-bp-effect] [data-bp-effect-field]')).to.equal('category');
    expect(await page.inputValue('[data-bp-effect] [data-bp-effect-kind]')).to.equal('mandatory');
    expect(await item().getAttribute('data-bp-editing')).to.equal('1');

    await page.click('[data-bp-cancel-edit]');
    expect(await form.locator('summary').textContent()).to.equal('Add a portal-only rule');
    expect(await page.inputValue('[data-bp-rule-name]')).to.equal('');
    expect(await page.locator('[data-bp-rules] > [data-bp-editing]').count()).to.equal(0);
    expect(await page.locator('[data-bp-section="rules"] [data-bp-dirty]').isHidden(), 'Cancel changes nothing').to.equal(true);

    await item().locator('[data-bp-edit-rule]').click();
    await page.fill('[data-bp-rule-name]', 'Urgent or high needs a category');
    await page.selectOption('[data-bp-condition] [data-bp-cond-op]', 'in');
    await page.fill('[data-bp-condition] [data-bp-cond-value]', 'Urgent, High');
    await page.click('[data-bp-add-effect]');
    await page.locator('[data-bp-effect]').nth(1).locator('[data-bp-effect-field]').selectOption('description');
    await page.locator('[data-bp-effect]').nth(1).locator('[data-bp-effect-kind]').selectOption('mandatory');
    await page.locator('[data-bp-section="rules"]').screenshot({ path: join(artifacts, '07-rule-editing.png') });
    await page.click('[data-bp-add-rule]');
    expect(await page.locator('[data-bp-rules] > li').count()).to.equal(before.length);
    expect(await item().textContent()).to.include('Urgent or high needs a category').and.include('Portal only').and.include('Description: mandatory');
    expect(await form.locator('summary').textContent()).to.equal('Add a portal-only rule');

    await page.click('[data-bp-section="rules"] [data-bp-save]');
    await page.locator('[data-bp-section="rules"] [data-bp-status]').locator('text=Saved.').waitFor();
    const after = (await service.document(profileId)).rules;
    expect(after.map((r) => r.name)).to.deep.equal(before.map((r) => (r.name === 'Urgent needs a category' ? 'Urgent or high needs a category' : r.name)));
    expect(after[at]).to.deep.equal({
      name: 'Urgent or high needs a category',
      module: 'HelpDesk',
      origin: { kind: 'portal' },
      conditions: [{ field: 'priority', op: 'in', value: ['Urgent', 'High'] }],
      effects: [
        { field: 'category', effect: 'mandatory' },
        { field: 'description', effect: 'mandatory' },
      ],
      allReadOnly: false,
    });
    for (const [index, rule] of before.entries()) if (index !== at) expect(after[index]).to.deep.equal(rule);
    await context.close();
  });

  it('a checkbox condition offers Yes and No, and a value that is neither is refused aloud, never saved as its opposite', async () => {
    const before = (await service.document(profileId)).rules;
    const { context, page } = await signedInOnPrivileges('rules');
    const form = page.locator('[data-bp-subform="new-rule"]');
    await form.locator('summary').click();
    await page.fill('[data-bp-rule-name]', 'Retired products are final');
    await page.selectOption('[data-bp-rule-module]', 'Products');
    const condition = page.locator('[data-bp-conditions] > li').first();
    await condition.locator('[data-bp-cond-field]').selectOption('active');
    await condition.locator('[data-bp-cond-op]').selectOption('eq');
    // The box offers the checkbox's two values by their names (a datalist, as for a picklist).
    const offered = await condition.locator('datalist option').evaluateAll((options) => options.map((o) => `${o.getAttribute('value')}=${o.getAttribute('label')}`));
    expect(offered).to.deep.equal(['true=Yes', 'false=No']);
    // An Italian admin types "vero" (true): it was read as false and saved so.
    await condition.locator('[data-bp-cond-value]').fill('vero');
    await page.click('[data-bp-add-effect]');
    await page.locator('[data-bp-effects] > li').first().locator('[data-bp-effect-field]').selectOption('unit_price');
    await page.click('[data-bp-add-rule]');
    await page.click('[data-bp-section="rules"] [data-bp-save]');
    // The answer: a refusal, or (before the fix) "Saved." with the rule stored as false.
    const status = page.locator('[data-bp-section="rules"] [data-bp-status]');
    await status.filter({ hasText: /Saved\.|checkbox/ }).waitFor();
    expect(await status.textContent(), 'refused, not saved').to.include('checkbox');
    expect((await service.document(profileId)).rules, 'nothing saved').to.deep.equal(before);

    // Edited to what the box offers, it is saved as true, and the list reads it as Yes.
    const item = page.locator('[data-bp-rules] > li', { hasText: 'Retired products are final' });
    await item.locator('[data-bp-edit-rule]').click();
    await page.locator('[data-bp-condition] [data-bp-cond-value]').fill('true');
    await page.click('[data-bp-add-rule]');
    expect(await item.textContent()).to.include('Active = Yes');
    await page.click('[data-bp-section="rules"] [data-bp-save]');
    await page.locator('[data-bp-section="rules"] [data-bp-status]').locator('text=Saved.').waitFor();
    const saved = (await service.document(profileId)).rules.find((r) => r.name === 'Retired products are final');
    expect(saved?.conditions).to.deep.equal([{ field: 'active', op: 'eq', value: true }]);
    // The page as the server draws it after a reload reads it the same way.
    await page.reload();
    expect(await item.textContent()).to.include('Active = Yes');
    // Put back what the tests after this one expect.
    await service.saveSection(profileId, 'rules', before, (await service.document(profileId)).profile.version, await adminActor(api));
    await context.close();
  });

  it('unfolds a folded button editor whose title is missing when Save is pressed, instead of doing nothing', async () => {
    const { context, page } = await signedInOnPrivileges('buttons');
    const before = (await service.document(profileId)).buttons;
    await page.click('[data-bp-add-button]');
    const added = page.locator('[data-bp-buttons] > li').last();
    // The admin folds the new button's editor without giving it a title, then saves the section.
    await added.locator('details > summary').click();
    expect(await added.locator('details').getAttribute('open')).to.equal(null);
    await page.click('[data-bp-section="buttons"] [data-bp-save]');
    // The browser can now point at the empty title: the editor is open and the title has the focus.
    expect(await added.locator('details').getAttribute('open')).to.equal('');
    expect(await added.locator('[data-bp-input="title"]:focus').count()).to.equal(1);
    await page.screenshot({ path: join(artifacts, '06-button-title-missing.png') });
    expect((await service.document(profileId)).buttons).to.deep.equal(before);
    await context.close();
  });

  it('has thumb-sized controls on a phone and nothing axe calls serious, on every profile page, in English and Italian', async () => {
    // A deleted profile, so that the list of deleted ones has a row to measure.
    const gone = await service.create({ name: 'Former dealers', description: '', startFrom: null }, await adminActor(api));
    await service.delete(gone.id, { moveTo: null, expectedVersion: gone.version }, await adminActor(api));
    const pages = ['/', '/profiles/new', '/profiles/import', '/profiles/deleted', `/profiles/${profileId}`, `/profiles/${profileId}/duplicate`, `/profiles/${profileId}/privileges`];
    for (const language of ['en', 'it'] as const) {
      await api.database.sequelize.query('UPDATE crm_users SET language = :language WHERE user_name = :name', { replacements: { language, name: 'admin' } });
      const context = await browser.newContext({ viewport: VIEWPORTS.phone, hasTouch: true, isMobile: true, locale: language === 'it' ? 'it-IT' : 'en-GB' });
      try {
        const page = await context.newPage();
        await signInToCrm(page, `${test.url}${SETTINGS}/`);
        for (const path of pages) {
          await page.goto(`${test.url}${SETTINGS}${path}`);
          const name = `${language} ${path}`;
          if (path.endsWith('/privileges')) {
            await page.waitForSelector('[data-bp-section="rules"] [data-bp-save]:not([disabled])');
            // Every folded part open, and a rule's effect row too: all of the editor is measured.
            await page.evaluate(`document.querySelectorAll('.bp-privileges details').forEach((details) => { details.open = true; })`);
            await page.click('[data-bp-add-effect]');
            await page.screenshot({ path: join(artifacts, `08-privileges-open-${language}-phone.png`), fullPage: true });
          }
          expect(await smallTapTargets(page, { within: '.bp-admin' }), `${name}: tap targets under 40 px`).to.deep.equal([]);
          // Larger controls still fit: none sticks out of the list it is in.
          const outside = (await page.evaluate(`[...document.querySelectorAll('.bp-admin .bp-items button')].flatMap((button) => {
            const item = button.closest('.bp-items').getBoundingClientRect();
            const box = button.getBoundingClientRect();
            return box.width > 0 && box.right > item.right + 0.5 ? [button.textContent.trim() + ' ' + Math.round(box.right) + ' > ' + Math.round(item.right)] : [];
          })`)) as string[];
          expect(outside, `${name}: buttons outside their list`).to.deep.equal([]);
          expect(await seriousViolations(page, { within: '.bp-admin' }), `${name}: axe on a phone`).to.deep.equal([]);
          await page.setViewportSize(VIEWPORTS.desktop);
          expect(await seriousViolations(page, { within: '.bp-admin' }), `${name}: axe on a desktop`).to.deep.equal([]);
          await page.setViewportSize(VIEWPORTS.phone);
        }
        await page.screenshot({ path: join(artifacts, `09-privileges-phone-${language}.png`) });
        await page.goto(`${test.url}${SETTINGS}/`);
        await page.screenshot({ path: join(artifacts, `09-profiles-phone-${language}.png`), fullPage: true });
      } finally {
        await context.close();
      }
    }
    await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
  });

  it('works by keyboard alone: visible focus everywhere, moves and deletes keep the focus, a save leaves it on the answer', async () => {
    const { context, page } = await signedInOnPrivileges('buttons');
    // Tab through the whole page: every stop shows where the focus is.
    const unseen: string[] = [];
    const seen = new Set<string>();
    for (let step = 0; step < 400; step += 1) {
      await page.keyboard.press('Tab');
      const stop = (await page.evaluate(`(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const style = getComputedStyle(el);
        const shown = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
        const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + (el.textContent || el.getAttribute('aria-label') || el.name || '').trim().replace(/\\s+/g, ' ').slice(0, 30) + '"';
        return { key: name + ' @' + Math.round(el.getBoundingClientRect().top + window.scrollY), name, shown, inside: Boolean(el.closest('.bp-admin')) };
      })()`)) as { key: string; name: string; shown: boolean; inside: boolean } | null;
      if (!stop) continue;
      if (seen.has(stop.key)) break;
      seen.add(stop.key);
      if (stop.inside && !stop.shown) unseen.push(stop.name);
    }
    expect(seen.size, 'focus stops').to.be.greaterThan(40);
    expect(unseen, 'focus stops without a visible focus').to.deep.equal([]);

    // A home button moved down and up by its buttons, with Enter: the focus stays on the button pressed.
    const titles = await buttonTitles(page);
    const first = page.locator('[data-bp-buttons] > li').first();
    await first.locator('[data-bp-move="down"]').focus();
    await page.keyboard.press('Enter');
    expect(await buttonTitles(page)).to.deep.equal([titles[1], titles[0], ...titles.slice(2)]);
    expect(await page.locator('[data-bp-buttons] > li:nth-child(2) [data-bp-move="down"]:focus').count(), 'focus after moving down').to.equal(1);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Space');
    expect(await buttonTitles(page)).to.deep.equal(titles);
    expect(await page.locator('[data-bp-buttons] > li:nth-child(1) [data-bp-move="up"]:focus').count(), 'focus after moving up').to.equal(1);

    // Deleting a button: the focus goes to the next button's Delete; the last one gone, to "Add a button".
    const count = titles.length;
    await page.locator('[data-bp-buttons] > li').first().locator('[data-bp-remove]').focus();
    await page.keyboard.press('Enter');
    expect(await page.locator('[data-bp-buttons] > li').count()).to.equal(count - 1);
    expect(await page.locator('[data-bp-buttons] > li:nth-child(1) [data-bp-remove]:focus').count(), 'focus after a delete').to.equal(1);
    for (let left = count - 1; left > 0; left -= 1) await page.keyboard.press('Enter');
    expect(await page.locator('[data-bp-buttons] > li').count()).to.equal(0);
    expect(await page.locator('[data-bp-add-button]:focus').count(), 'focus after the last delete').to.equal(1);
    // Leave without saving: the page asks first (beforeunload), and the admin agrees.
    page.on('dialog', (dialog) => void dialog.accept());
    await page.reload();
    await page.waitForSelector('[data-bp-section="modules"] [data-bp-save]:not([disabled])');

    // A list column deleted by keyboard, then the section saved with Enter in its Save: the focus waits on the answer.
    await page.locator('[data-bp-details="HelpDesk"] > summary').focus();
    await page.keyboard.press('Enter');
    const columnsBefore = await columns(page);
    await page.locator('[data-bp-module="HelpDesk"] [data-bp-columns] > li').last().locator('[data-bp-remove]').focus();
    await page.keyboard.press('Enter');
    expect(await columns(page)).to.deep.equal(columnsBefore.slice(0, -1));
    expect(await page.locator('[data-bp-module="HelpDesk"] [data-bp-columns] > li').last().locator('[data-bp-remove]:focus').count(), 'focus after deleting the last column').to.equal(1);
    await page.locator('[data-bp-section="modules"] [data-bp-save]').focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-bp-section="modules"] [data-bp-status]').locator('text=Saved.').waitFor();
    expect(await page.locator('[data-bp-section="modules"] [data-bp-status]:focus').count(), 'focus after the save').to.equal(1);
    // The folded module stays open after the save, and Tab goes on from the answer to the next control.
    expect(await page.locator('[data-bp-details="HelpDesk"]').getAttribute('open')).to.not.equal(null);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(`Boolean(document.activeElement && document.activeElement !== document.body)`)).to.equal(true);
    await context.close();
  });

  it('tells the admin to reload when someone else changed the profile in the meantime', async () => {
    const { context, page } = await signedInOnPrivileges('globals');
    // Someone else saves a section after the page was loaded.
    const current = await service.document(profileId);
    const theirs = { viewAll: false, editAll: !current.globals.editAll };
    const saved = await service.saveSection(profileId, 'globals', theirs, current.profile.version, await adminActor(api));
    await page.setChecked('#bp-view-all', true);
    await page.click('[data-bp-section="globals"] [data-bp-save]');
    const status = page.locator('[data-bp-section="globals"] [data-bp-status]');
    await status.locator('text=someone else changed this section').waitFor();
    expect(await status.locator('button').textContent()).to.equal('Reload the page');
    expect((await service.document(profileId)).globals).to.deep.equal(theirs);
    await page.screenshot({ path: join(artifacts, '05-stale.png') });
    await context.close();
    await service.saveSection(profileId, 'globals', current.globals, saved.document.profile.version, await adminActor(api));
  });

  it('saves a section another admin did not touch, keeping what was typed elsewhere; refuses one they changed', async () => {
    const { context, page } = await signedInOnPrivileges('globals');
    const actor = await adminActor(api);
    const before = await service.document(profileId);
    // Meanwhile another admin changes General and the home buttons.
    const otherFactor = before.general.twoFactorType === 'email' ? 'none' : 'email';
    let version = (await service.saveSection(profileId, 'general', { ...before.general, twoFactorType: otherFactor }, before.profile.version, actor)).document.profile.version;
    const theirButtons = before.buttons.map((b, i) => (i === 0 ? { ...b, title: 'Their title' } : b));
    version = (await service.saveSection(profileId, 'buttons', theirButtons, version, actor)).document.profile.version;
    // This admin changes the globals, a home button and a module's scope, then saves the globals.
    const viewAll = !before.globals.viewAll;
    await page.setChecked('#bp-view-all', viewAll);
    const title = page.locator('[data-bp-buttons] > [data-bp-button]').nth(1).locator('[data-bp-input="title"]');
    await page.locator('[data-bp-buttons] > [data-bp-button]').nth(1).locator('summary').click();
    await title.fill('Typed here');
    const scope = page.locator('[data-bp-module="HelpDesk"] select[name="scope"]');
    await scope.selectOption('contact');
    await page.click('[data-bp-section="globals"] [data-bp-save]');
    const globals = page.locator('[data-bp-section="globals"] [data-bp-status]');
    await globals.locator(`text=${'Saved.'}`).waitFor();
    expect((await service.document(profileId)).globals.viewAll).to.equal(viewAll);
    // General shows the other admin's choice; what was typed in the other sections is still there.
    expect(await page.locator('#bp-two-factor').inputValue()).to.equal(otherFactor);
    expect(await title.inputValue()).to.equal('Typed here');
    expect(await scope.inputValue()).to.equal('contact');
    await page.screenshot({ path: join(artifacts, '05-stale-other-section.png'), fullPage: true });
    // The modules were not changed meanwhile: they save. The buttons were: refused, nothing lost or overwritten.
    await page.click('[data-bp-section="modules"] [data-bp-save]');
    await page.locator('[data-bp-section="modules"] [data-bp-status]').locator('text=Saved.').waitFor();
    expect((await service.document(profileId)).modules.find((m) => m.module === 'HelpDesk')!.scope).to.equal('contact');
    await page.click('[data-bp-section="buttons"] [data-bp-save]');
    const buttons = page.locator('[data-bp-section="buttons"] [data-bp-status]');
    await buttons.locator('text=someone else changed this section').waitFor();
    expect(await buttons.locator('button').textContent()).to.equal('Reload the page');
    expect((await service.document(profileId)).buttons.map((b) => b.title)).to.deep.equal(theirButtons.map((b) => b.title));
    expect(await title.inputValue()).to.equal('Typed here');
    await page.screenshot({ path: join(artifacts, '05-stale-same-section.png'), fullPage: true });
    await context.close();
    // Put the profile back as the other tests expect it.
    const now = await service.document(profileId);
    version = (await service.saveSection(profileId, 'buttons', before.buttons, now.profile.version, actor)).document.profile.version;
    version = (await service.saveSection(profileId, 'general', before.general, version, actor)).document.profile.version;
    version = (await service.saveSection(profileId, 'globals', before.globals, version, actor)).document.profile.version;
    await service.saveSection(profileId, 'modules', before.modules, version, actor);
  });

  it('keeps the keyboard on Save while a save is in flight; a refused or lost save is said at once, the focus still on Save', async () => {
    const { context, page } = await signedInOnPrivileges('globals');
    const save = '[data-bp-section="globals"] [data-bp-save]';
    const status = '[data-bp-section="globals"] [data-bp-status]';
    // document.activeElement, not :focus: a Save disabled while focused still matches :focus, yet the keyboard is on the body.
    const onSave = async () => (await page.evaluate(`document.activeElement.matches(${JSON.stringify(save)})`)) as boolean;
    // Every save of the section waits until the test lets it through, or is lost on the way. One route for the
    // whole test, its behaviour switched: an unroute and a route again turn Chromium's interception off and on,
    // and a save sent just after could go through uncaught (seen under load: the lost save was saved).
    const held: Route[] = [];
    let lose = false;
    await page.route(`**/profiles/${profileId}/sections/globals`, (route) => (lose ? route.abort('failed') : void held.push(route)));
    const heldCount = async (count: number) => {
      for (let i = 0; i < 100 && held.length < count; i += 1) await page.waitForTimeout(50);
      expect(held, 'saves sent').to.have.length(count);
    };

    // By keyboard: tick a box, Tab to Save, Enter. While the server has not answered, the focus stays on Save.
    await page.focus('#bp-view-all');
    await page.keyboard.press('Space');
    await tabTo(page, save);
    await page.keyboard.press('Enter');
    await heldCount(1);
    expect(await onSave(), 'focus while saving').to.equal(true);
    expect(await page.locator(save).getAttribute('aria-disabled')).to.equal('true');
    expect(await page.locator(`${status} [role="status"]`).textContent()).to.equal('Saving…');
    // A second Enter on the busy Save sends nothing more.
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    expect(held).to.have.length(1);
    // The admin goes on meanwhile to the next section, which the answer draws again: the focus stays on the same box.
    await page.keyboard.press('Tab');
    const firstBox = '[data-bp-section="modules"] input[type="checkbox"]:not([disabled])';
    expect(await page.evaluate(`document.activeElement === document.querySelector(${JSON.stringify(firstBox)})`)).to.equal(true);
    await held[0]!.continue();
    await page.locator(status).locator('text=Saved.').waitFor();
    expect(await page.evaluate(`document.activeElement === document.querySelector(${JSON.stringify(firstBox)})`), 'focus in the section drawn again').to.equal(true);
    await page.keyboard.press('Shift+Tab');
    expect(await onSave(), 'Shift+Tab back to Save').to.equal(true);

    // A save the network loses: said at once, and the focus is back on Save, never on the page.
    const alert = page.locator(`${status} [role="alert"]`);
    lose = true;
    await page.keyboard.press('Enter');
    await alert.locator('text=could not be reached').waitFor();
    expect(await onSave(), 'focus after a lost save').to.equal(true);
    expect(await page.locator(save).getAttribute('aria-disabled')).to.equal(null);
    lose = false;

    // Someone else changes the same section meanwhile: the server refuses the next save as stale.
    const current = await service.document(profileId);
    const theirs = { viewAll: current.globals.viewAll, editAll: !current.globals.editAll };
    await service.saveSection(profileId, 'globals', theirs, current.profile.version, await adminActor(api));
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    expect(await onSave()).to.equal(true);
    await page.keyboard.press('Enter');
    await heldCount(2);
    expect(await onSave(), 'focus while saving again').to.equal(true);
    await held[1]!.continue();
    // The refusal is said at once (role=alert), not after whatever else is being read; Save is usable again and keeps the focus.
    await alert.locator('text=someone else changed this section').waitFor();
    expect(await page.locator(`${status} [role="status"]`).textContent(), 'nothing left in the polite region').to.equal('');
    expect(await onSave(), 'focus after the refusal').to.equal(true);
    expect(await page.locator(save).getAttribute('aria-disabled')).to.equal(null);
    // The way out (Reload) is the next stop.
    expect(await tabTo(page, `${status} button`, 3)).to.have.length.below(3);
    expect(await page.evaluate('document.activeElement.textContent')).to.equal('Reload the page');
    expect((await service.document(profileId)).globals).to.deep.equal(theirs);
    await context.close();
  });

  it('marks the fields a refused save names: aria-invalid, described by their problem, the first one focused; cleared on change and on a save', async () => {
    const { context, page } = await signedInOnPrivileges('general');
    const fallback = '#bp-two-factor-fallback';
    const status = '[data-bp-section="general"] [data-bp-status]';
    // What a screen reader reads after the field's name: its aria-describedby texts, in order. A string: no DOM library.
    const described = (selector: string) =>
      page.evaluate(`(document.querySelector(${JSON.stringify(selector)}).getAttribute('aria-describedby') || '').split(' ').filter(Boolean).map((id) => document.getElementById(id) ? document.getElementById(id).textContent.trim() : '(missing ' + id + ')')`) as Promise<string[]>;
    // By keyboard: no primary two-factor type, yet a fallback; Tab to Save, Enter. The server refuses the fallback.
    await page.focus('#bp-two-factor');
    await page.selectOption('#bp-two-factor', 'none');
    await page.focus(fallback);
    await page.selectOption(fallback, 'email');
    await tabTo(page, '[data-bp-section="general"] [data-bp-save]');
    await page.keyboard.press('Enter');
    await page.locator(`${status} [role="alert"]`).locator('text=needs a primary type').waitFor();
    expect(await page.getAttribute(fallback, 'aria-invalid')).to.equal('true');
    const texts = await described(fallback);
    expect(texts[0]).to.match(/a fallback two-factor type needs a primary type/);
    expect(texts.slice(1), 'its own hint still read after the problem').to.have.length(1);
    expect(await page.getAttribute('#bp-two-factor', 'aria-invalid'), 'a field the refusal does not name').to.equal(null);
    expect(await page.evaluate('document.activeElement.id'), 'focus on the field concerned').to.equal('bp-two-factor-fallback');
    // Changing the field clears its mark; the hint alone describes it again.
    await page.keyboard.press('ArrowUp');
    await page.selectOption(fallback, 'none');
    expect(await page.getAttribute(fallback, 'aria-invalid')).to.equal(null);
    expect(await described(fallback)).to.deep.equal(texts.slice(1));

    // Another section, another kind of path: a sender address the browser accepts and the server does not.
    await page.fill('#bp-sender-email', 'support@localhost');
    await page.click('[data-bp-section="notifications"] [data-bp-save]');
    await page.locator('[data-bp-section="notifications"] [data-bp-status] [role="alert"] li').first().waitFor();
    expect(await page.getAttribute('#bp-sender-email', 'aria-invalid')).to.equal('true');
    expect((await described('#bp-sender-email'))[0]).to.match(/email/i);
    expect(await page.evaluate('document.activeElement.id')).to.equal('bp-sender-email');
    // A successful save of the section: no mark is left.
    await page.fill('#bp-sender-email', 'support@example.com');
    await page.click('[data-bp-section="notifications"] [data-bp-save]');
    await page.locator('[data-bp-section="notifications"] [data-bp-status]').locator('text=Saved.').waitFor();
    expect(await page.locator('[data-bp-section="notifications"] [aria-invalid]').count()).to.equal(0);
    await context.close();
  });

  it('shows every per-field access choice whole, in Italian, on a phone and on a desktop', async () => {
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const { context, page } = await signedInOnPrivileges('modules');
      await page.click('[data-bp-details="HelpDesk"] > summary');
      for (const [size, viewport] of Object.entries(VIEWPORTS)) {
        await page.setViewportSize(viewport);
        // Each select against its own width laid out alone: narrower means its longest choice is cut.
        // A string: the test is compiled without the DOM library.
        const cut = (await page.evaluate(`[...document.querySelectorAll('[data-bp-module="HelpDesk"] .bp-field-access select')].flatMap((select) => {
          const shown = select.getBoundingClientRect().width;
          const { position, width } = select.style;
          select.style.position = 'absolute';
          select.style.width = 'auto';
          const whole = select.getBoundingClientRect().width;
          select.style.position = position;
          select.style.width = width;
          return shown + 1 < whole ? [select.id + ': ' + Math.round(shown) + ' < ' + Math.round(whole) + ' px'] : [];
        })`)) as string[];
        expect(cut, size).to.deep.equal([]);
        expect(Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')), size).to.be.at.most(0);
        await page.locator('[data-bp-module="HelpDesk"]').screenshot({ path: join(artifacts, `module-HelpDesk-it-${size}.png`) });
      }
      await context.close();
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('offers a picklist’s values with their labels in the rule form, and the rule it adds reads them so (Stato = Chiuso)', async () => {
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const { context, page } = await signedInOnPrivileges('rules');
      await page.click('[data-bp-subform="new-rule"] > summary');
      await page.fill('[data-bp-rule-name]', 'Chiusi in sola lettura');
      await page.selectOption('[data-bp-rule-module]', 'HelpDesk');
      const condition = page.locator('[data-bp-conditions] > li').first();
      await condition.locator('[data-bp-cond-field]').selectOption('status');
      const offered = () => condition.locator('datalist option').evaluateAll((options) => options.map((o) => `${o.getAttribute('value')}=${o.getAttribute('label')}`));
      expect(await condition.locator('[data-bp-cond-value]').getAttribute('list')).to.be.a('string');
      expect(await offered()).to.include.members(['Open=Aperto', 'Closed=Chiuso']);
      // Another field, another list; a field without values, none.
      await condition.locator('[data-bp-cond-field]').selectOption('priority');
      expect(await offered()).to.include('Urgent=Urgente').and.not.include('Closed=Chiuso');
      await condition.locator('[data-bp-cond-field]').selectOption('ticket_title');
      expect(await condition.locator('[data-bp-cond-value]').getAttribute('list')).to.equal(null);
      await condition.locator('[data-bp-cond-field]').selectOption('status');
      await condition.locator('[data-bp-cond-op]').selectOption('eq');
      await condition.locator('[data-bp-cond-value]').fill('Closed');
      await page.check('[data-bp-rule-all-read-only]');
      await page.click('[data-bp-add-rule]');
      const added = page.locator('[data-bp-rules] > li', { hasText: 'Chiusi in sola lettura' });
      expect(await added.locator('.bp-chip').allTextContents()).to.include('Stato = Chiuso');
      await context.close();
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('says "Saved." once after a save: one live region holds it, the section shows it without announcing it again', async () => {
    const { context, page } = await signedInOnPrivileges('globals');
    // The live regions whose text holds `text`: each would be announced (a node inside one counts as its region). A string: no DOM library.
    const announcing = (text: string) =>
      page.evaluate(`(() => {
        const regions = [...document.querySelectorAll('[aria-live], [role="status"], [role="alert"], [role="log"]')]
          .filter((el) => (el.getAttribute('aria-live') || '') !== 'off');
        const outermost = regions.filter((el) => !regions.some((other) => other !== el && other.contains(el)));
        return outermost.filter((el) => (el.textContent || '').includes(${JSON.stringify(text)})).map((el) => el.outerHTML.slice(0, 120));
      })()`) as Promise<string[]>;
    for (const [section, change] of [
      ['globals', () => page.check('#bp-view-all')],
      ['general', () => page.selectOption('#bp-two-factor', 'none')],
    ] as const) {
      await change();
      await page.click(`[data-bp-section="${section}"] [data-bp-save]`);
      const status = page.locator(`[data-bp-section="${section}"] [data-bp-status]`);
      // The confirmation stays in sight next to the section.
      await status.locator('text=Saved.').waitFor({ state: 'visible' });
      // The page's announcer writes a moment later: wait until it has, then count.
      await waitUntilTrue(page, `(document.querySelector('[data-bp-announce]').textContent || '').includes('Saved.')`);
      await page.waitForTimeout(100);
      expect(await announcing('Saved.'), `${section}: live regions saying "Saved."`).to.have.length(1);
    }
    await page.screenshot({ path: join(artifacts, '06-saved-once.png') });
    await context.close();
  });

  it('ties a refused rule to its Edit and a refused list column to its Delete: aria-invalid, described by the problem, focused', async () => {
    // What the tests before left: put back at the end.
    const before = await service.document(profileId);
    type Value = Parameters<DatabaseProfileService['saveSection']>[2];
    const put = async (section: Parameters<DatabaseProfileService['saveSection']>[1], value: Value) =>
      service.saveSection(profileId, section, value, (await service.document(profileId)).profile.version, await adminActor(api));
    // One rule of this profile's own, and three columns in the ticket list.
    await put('rules', [
      ...before.rules,
      { name: 'Closed ones stay closed', module: 'HelpDesk', origin: { kind: 'portal' }, conditions: [{ field: 'status', op: 'eq', value: 'Closed' }], effects: [{ field: 'priority', effect: 'readonly' }], allReadOnly: false },
    ] as Value);
    await put('modules', before.modules.map((entry) =>
      entry.module === 'HelpDesk' ? { ...entry, fields: { ...entry.fields, ticket_title: 'readwrite', status: 'readwrite', priority: 'readwrite' }, listColumns: ['ticket_title', 'status', 'priority'] } : entry,
    ) as Value);
    const { context, page } = await signedInOnPrivileges('rules');
    // What a screen reader reads after the control's name: its aria-describedby texts, in order. A string: no DOM library.
    const described = (selector: string) =>
      page.evaluate(`(document.querySelector(${JSON.stringify(selector)}).getAttribute('aria-describedby') || '').split(' ').filter(Boolean).map((id) => document.getElementById(id) ? document.getElementById(id).textContent.trim() : '(missing ' + id + ')')`) as Promise<string[]>;
    const isFocused = (selector: string) => page.evaluate(`document.activeElement === document.querySelector(${JSON.stringify(selector)})`) as Promise<boolean>;

    // The rule's field went away in the CRM while the page was open (its data says so): the save is refused.
    const rule = '[data-bp-rules] > [data-bp-rule]:last-child';
    await page.evaluate(`(() => {
      const item = document.querySelector(${JSON.stringify(rule)});
      const value = JSON.parse(item.getAttribute('data-bp-rule'));
      value.effects = [{ field: 'gone_field', effect: 'readonly' }];
      item.setAttribute('data-bp-rule', JSON.stringify(value));
    })()`);
    await page.click('[data-bp-section="rules"] [data-bp-save]');
    await page.locator('[data-bp-section="rules"] [data-bp-status] [role="alert"] li').first().waitFor();
    const edit = `${rule} [data-bp-edit-rule]`;
    expect(await page.getAttribute(edit, 'aria-invalid')).to.equal('true');
    const ruleTexts = await described(edit);
    expect(ruleTexts[0], 'the problem first').to.include('gone_field');
    expect(ruleTexts.slice(1), 'then the rule it acts on').to.deep.equal(['Closed ones stay closed']);
    expect(await isFocused(edit), 'focus on the refused rule’s Edit').to.equal(true);
    expect(await page.locator('[data-bp-section="rules"] [aria-invalid]').count(), 'only that rule').to.equal(1);

    // A list column whose field went away: the save of the modules is refused.
    // Its fields drawn (opened once), its part folded again: the refusal unfolds it.
    await page.click('[data-bp-details="HelpDesk"] > summary');
    await moduleFields(page);
    await page.click('[data-bp-details="HelpDesk"] > summary');
    const column = '[data-bp-module="HelpDesk"] [data-bp-columns] > [data-bp-column]:nth-child(2)';
    const label = ((await page.locator(`${column} .bp-column-label`).textContent()) ?? '').trim();
    await page.evaluate(`document.querySelector(${JSON.stringify(column)}).setAttribute('data-bp-column', 'gone_column')`);
    await page.click('[data-bp-section="modules"] [data-bp-save]');
    await page.locator('[data-bp-section="modules"] [data-bp-status] [role="alert"] li').first().waitFor();
    const remove = `${column} [data-bp-remove]`;
    expect(await page.getAttribute(remove, 'aria-invalid')).to.equal('true');
    const columnTexts = await described(remove);
    expect(columnTexts[0], 'the problem first').to.include('gone_column');
    expect(columnTexts.slice(1), 'then the column it acts on').to.deep.equal([label]);
    // The module's editor was folded: unfolded, and the keyboard is on the column's Delete.
    expect(await page.locator('[data-bp-details="HelpDesk"]').getAttribute('open')).to.not.equal(null);
    expect(await isFocused(remove), 'focus on the refused column’s Delete').to.equal(true);
    await page.screenshot({ path: join(artifacts, '07-refused-column.png') });
    // A button marked invalid is no ARIA misuse axe would report.
    expect(await seriousViolations(page, { within: '.bp-admin' })).to.deep.equal([]);
    // Deleting it puts it right: the save goes through and leaves no mark.
    await page.keyboard.press('Enter');
    await page.click('[data-bp-section="modules"] [data-bp-save]');
    await page.locator('[data-bp-section="modules"] [data-bp-status]').locator('text=Saved.').waitFor();
    expect(await page.locator('[data-bp-section="modules"] [aria-invalid]').count()).to.equal(0);
    await context.close();
    await put('modules', before.modules as Value);
    await put('rules', before.rules as Value);
  });

  it('says on which button, column or rule each Move, Edit and Delete acts (described by the item’s title)', async () => {
    const { context, page } = await signedInOnPrivileges('modules');
    await page.click('[data-bp-details="HelpDesk"] > summary');
    // Items drawn by the script too: a new home button and a new column.
    await page.click('[data-bp-add-button]');
    await page.fill('[data-bp-buttons] > li:last-child [data-bp-input="title"]', 'Invoices');
    await page.locator('[data-bp-module="HelpDesk"] [data-bp-add-column]').click();
    // A string: the test is compiled without the DOM library.
    const described = (await page.evaluate(`[...document.querySelectorAll('.bp-item .bp-item-tools button')].map((tool) => {
      const id = tool.getAttribute('aria-describedby');
      const title = id ? document.getElementById(id) : null;
      return (tool.textContent || '').trim() + ' → ' + (title && tool.closest('.bp-item').contains(title) ? title.textContent.trim() : '(none)');
    })`)) as string[];
    expect(described.length).to.be.greaterThan(6);
    expect(described.filter((line) => line.endsWith('(none)') || line.endsWith('→ '))).to.deep.equal([]);
    expect(described).to.include.members(['↑Move up → Invoices', 'Delete → Invoices', '↑Move up → Title', 'Delete → Ticket number']);
    await context.close();
  });

  it('keeps an owner and a template removed from the CRM chosen, marked, when their sections are saved with another change, on a phone', async () => {
    const actor = await adminActor(api);
    const gone = await addEmailTemplate(api, { name: 'New ticket, removed later', module: 'HelpDesk', subject: 'New', body: 'Thanks' });
    const current = await service.document(profileId);
    await service.saveSection(profileId, 'notifications', { ...current.notifications, templates: { ...current.notifications.templates, newTicket: gone } }, current.profile.version, actor);
    await deleteEmailTemplate(api, gone);
    // The owner, a CRM user deleted since it was chosen.
    await api.database.sequelize.query("UPDATE bp_profiles SET owner_kind = 'user', owner_id = 987654 WHERE id = :id", { replacements: { id: profileId } });

    const { context, page } = await signedInOnPrivileges('general');
    await page.setViewportSize(VIEWPORTS.phone);
    const chosen = (select: string) => page.locator(`${select} option:checked`).innerText();
    expect(await chosen('#bp-owner')).to.equal('User no. 987654 — no longer in the CRM');
    expect(await page.locator('#bp-owner-missing').innerText()).to.include('The chosen user or group no longer exists in the CRM');
    expect(await chosen('#bp-template-newTicket')).to.equal(`Template no. ${gone} — no longer in the CRM`);
    await page.locator('#bp-owner').evaluate((select) => select.closest('section')!.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: join(artifacts, '12-removed-owner-phone.png') });
    await page.locator('#bp-template-newTicket').evaluate((select) => select.closest('p')!.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: join(artifacts, '13-removed-template-phone.png') });

    // The admin changes something else in each section and saves it.
    const other = (await service.document(profileId)).general.twoFactorType === 'email' ? 'none' : 'email';
    await page.selectOption('#bp-two-factor', other);
    if ((await page.locator('#bp-two-factor-fallback').inputValue()) === other) await page.selectOption('#bp-two-factor-fallback', other === 'email' ? 'none' : 'email');
    await page.click('[data-bp-section="general"] [data-bp-save]');
    await page.locator('[data-bp-section="general"] [data-bp-status]').locator('text=Saved.').waitFor();
    await page.fill('#bp-sender-name', 'Removed choices desk');
    await page.click('[data-bp-section="notifications"] [data-bp-save]');
    await page.locator('[data-bp-section="notifications"] [data-bp-status]').locator('text=Saved.').waitFor();
    const saved = await service.document(profileId);
    expect(saved.general.twoFactorType).to.equal(other);
    expect(saved.general.owner, 'the owner kept').to.deep.equal({ kind: 'user', id: 987654 });
    expect(saved.notifications.senderName).to.equal('Removed choices desk');
    expect(saved.notifications.templates.newTicket, 'the template kept').to.equal(gone);
    await context.close();
  });

  it('draws a module’s fields when its part is opened, on a phone: a field changed there is saved and read back after a reload', async () => {
    const { context, page } = await signedInOnPrivileges('modules');
    await page.setViewportSize(VIEWPORTS.phone);
    const select = '#bp-field-HelpDesk-priority';
    expect(await page.locator(select).count(), 'no field before the module is opened').to.equal(0);
    const before = (await service.document(profileId)).modules.find((m) => m.module === 'HelpDesk')!.fields.priority;
    const changed = before === 'readonly' ? 'readwrite' : 'readonly';
    await page.click('[data-bp-details="HelpDesk"] > summary');
    await page.locator(select).selectOption(changed);
    expect(await page.locator('[data-bp-section="modules"] [data-bp-dirty]').isVisible(), 'the change is tracked').to.equal(true);
    // Nothing of it sticks out of a phone's width.
    const wider = (await page.evaluate(`[...document.querySelectorAll('[data-bp-module="HelpDesk"] [data-bp-module-fields-body] select, [data-bp-module="HelpDesk"] [data-bp-module-fields-body] button')].filter((c) => c.getBoundingClientRect().right > window.innerWidth + 0.5).length`)) as number;
    expect(wider, 'controls wider than the phone').to.equal(0);
    await page.click('[data-bp-section="modules"] [data-bp-save]');
    await page.locator('[data-bp-section="modules"] [data-bp-status]').locator('text=Saved.').waitFor();
    // Drawn again from what was stored, still open, the field as chosen.
    expect(await page.inputValue(select)).to.equal(changed);
    await page.reload();
    await page.waitForSelector('[data-bp-section="modules"] [data-bp-save]:not([disabled])');
    await page.click('[data-bp-details="HelpDesk"] > summary');
    expect(await page.locator(select).inputValue()).to.equal(changed);
    expect((await service.document(profileId)).modules.find((m) => m.module === 'HelpDesk')!.fields.priority).to.equal(changed);
    await context.close();
  });

  it('offers as a list column only the fields not hidden, as the admin changes their access before saving', async () => {
    const { context, page } = await signedInOnPrivileges('modules');
    await page.click('[data-bp-details="HelpDesk"] > summary');
    await moduleFields(page);
    const offered = () => page.locator('#bp-add-column-HelpDesk option').evaluateAll((options) => options.map((o) => o.getAttribute('value')));
    const before = await offered();
    expect(before, 'a field that is no column is offered').to.include('category');
    // Hidden: it could only be removed again by the save, so it is no longer offered.
    await page.locator('#bp-field-HelpDesk-category').selectOption('hidden');
    expect(await offered()).to.deep.equal(before.filter((name) => name !== 'category'));
    // Shown again: offered again in its place among the fields, and it can be added.
    await page.locator('#bp-field-HelpDesk-category').selectOption('readonly');
    expect(await offered()).to.deep.equal(before);
    await page.locator('#bp-add-column-HelpDesk').selectOption('category');
    await page.click('[data-bp-module="HelpDesk"] [data-bp-add-column]');
    expect(await columns(page)).to.include('category');
    await context.close();
  });

  it('without JavaScript, links each module to the page with its fields drawn, a link big enough for a thumb on a phone', async () => {
    const context = await browser.newContext({ viewport: VIEWPORTS.phone, hasTouch: true, isMobile: true, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await signInToCrm(page, `${test.url}${SETTINGS}/profiles/${profileId}/privileges`);
      expect(await page.locator('#bp-field-HelpDesk-priority').count()).to.equal(0);
      await page.click('[data-bp-details="HelpDesk"] > summary');
      const link = page.locator('[data-bp-module="HelpDesk"] [data-bp-load-fields]');
      expect(await smallTapTargets(page, { within: '[data-bp-module="HelpDesk"] .bp-fields-load' }), 'tap targets under 40 px').to.deep.equal([]);
      await Promise.all([page.waitForURL(/[?]fields=HelpDesk/), link.click()]);
      const stored = (await service.document(profileId)).modules.find((m) => m.module === 'HelpDesk')!.fields.priority;
      expect(await page.locator('#bp-field-HelpDesk-priority').isVisible(), 'drawn in the page, its part open').to.equal(true);
      expect(await page.locator('#bp-field-HelpDesk-priority').inputValue()).to.equal(stored);
      expect(await page.locator('#bp-field-Faq-question').count(), 'only that module’s fields').to.equal(0);
    } finally {
      await context.close();
    }
  });

  it('keeps the fields and columns of a module never opened when the modules section is saved', async () => {
    await addWideModule(api, 'Untouched', 40);
    try {
      const actor = await adminActor(api);
      let document = await service.document(profileId);
      const entry = document.modules.find((m) => m.module === 'Untouched')!;
      // Every third field hidden, the list columns among the others.
      const fields = Object.fromEntries(Object.keys(entry.fields).map((name, i) => [name, (['readonly', 'readwrite', 'hidden'] as const)[i % 3]!]));
      document = (await service.saveSection(profileId, 'modules', [{ ...entry, fields, listColumns: ['title', 'field_4'] }], document.profile.version, actor)).document;
      expect(document.modules.find((m) => m.module === 'Untouched')!.listColumns, 'as set up').to.deep.equal(['title', 'field_4']);
      const { context, page } = await signedInOnPrivileges('modules');
      // Another module's flag changed and saved; Untouched was never opened.
      // (HelpDesk's: FAQ's Edit is disabled, a public catalogue being read-only on the portal.)
      await page.locator('[data-bp-module="HelpDesk"] input[name="delete"]').click();
      await page.click('[data-bp-section="modules"] [data-bp-save]');
      await page.locator('[data-bp-section="modules"] [data-bp-status]').locator('text=Saved.').waitFor();
      expect(await page.locator('[data-bp-module="Untouched"] [data-bp-field]').count(), 'still not drawn').to.equal(0);
      const saved = await service.document(profileId);
      expect(saved.profile.version).to.be.above(document.profile.version);
      expect(saved.modules.find((m) => m.module === 'HelpDesk')!.delete).to.equal(!document.modules.find((m) => m.module === 'HelpDesk')!.delete);
      const untouched = saved.modules.find((m) => m.module === 'Untouched')!;
      expect(untouched.fields).to.deep.equal(fields);
      expect(untouched.listColumns).to.deep.equal(['title', 'field_4']);
      await context.close();
    } finally {
      await api.modules.removeModule('Untouched');
    }
  });

  it('finds a field among a module’s 200 by a filter above its list, on a phone; what the filter hides is still saved', async () => {
    await addWideModule(api, 'Wide', 200);
    try {
      const { context, page } = await signedInOnPrivileges('modules');
      await page.setViewportSize(VIEWPORTS.phone);
      await page.click('[data-bp-details="Wide"] > summary');
      await moduleFields(page, 'Wide');
      const wide = page.locator('[data-bp-module="Wide"]');
      const filter = wide.getByLabel('Find a field');
      const shownRows = () => wide.locator('.bp-field-access > li:visible').count();
      expect(await shownRows(), 'every field before a filter').to.equal(200);
      await filter.fill('field 12');
      // Field 12 and Field 120 to 129, whatever the case typed.
      expect(await shownRows()).to.equal(11);
      expect(await wide.locator('[data-bp-field-filter-count]').textContent()).to.equal('11 of 200 fields shown');
      expect(await wide.locator('.bp-field-access > li:visible label').first().textContent()).to.equal('Field 12');
      await filter.press('Enter');
      expect(await page.locator('[data-bp-section="modules"] [data-bp-dirty]').isHidden(), 'a filter is no change to save').to.equal(true);
      await wide.screenshot({ path: join(artifacts, 'module-200-fields-filtered-phone.png') });
      await wide.locator('select[data-bp-field="field_12"]').selectOption('hidden');
      await filter.fill('');
      expect(await shownRows(), 'every field again').to.equal(200);
      expect(await wide.locator('[data-bp-field-filter-count]').textContent()).to.equal('');
      await filter.fill('nothing like it');
      expect(await wide.locator('[data-bp-field-filter-count]').textContent()).to.equal('0 of 200 fields shown');
      await page.click('[data-bp-section="modules"] [data-bp-save]');
      await page.locator('[data-bp-section="modules"] [data-bp-status]').locator('text=Saved.').waitFor();
      const saved = (await service.document(profileId)).modules.find((m) => m.module === 'Wide')!;
      expect(saved.fields.field_12).to.equal('hidden');
      expect(saved.fields.field_121, 'a field the filter hid keeps its access').to.equal('readwrite');
      expect(Object.keys(saved.fields)).to.have.length(200);
      await context.close();
    } finally {
      await api.modules.removeModule('Wide');
    }
  });
});
