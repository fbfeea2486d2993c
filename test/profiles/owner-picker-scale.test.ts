/**
 * The owner of a profile on a CRM with many users and groups. A small CRM keeps the one dropdown
 * of every user and group; past OWNER_LIST_LIMIT of them the privileges page lists the chosen owner
 * and the users and groups a search names (a GET form: no JavaScript needed), so that the page of a
 * CRM with 5,000 users is not 400 KB of options. The profile page and an audit entry's page read
 * only the users and groups their changes name, never every user or every group's members.
 * Counts (options, bytes, statements), never timings.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ProfileActor } from '../../plugin/profiles/profile-document.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { OWNER_LIST_LIMIT, OWNER_MATCHES_SHOWN } from '../../plugin/settings/crm-user-search.js';
import { addCrmUsers } from '../support/crm-users.js';
import { recordStatements } from '../support/database.js';
import { sentValue } from '../support/form-values.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { adminActor, adminClient, profileService, SETTINGS, type AdminClient } from './profile-test-kit.js';

const USERS = OWNER_LIST_LIMIT + 150;
const GROUPS = 40;

describe('profile owner on a CRM with many users and groups @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let admin: AdminClient;
  let actor: ProfileActor;
  let id: number;
  let smallPage: string;

  const privileges = async (query = '') => {
    const response = await admin.get(`${SETTINGS}/profiles/${id}/privileges${query}`);
    expect(response.status).to.equal(200);
    return response.text();
  };
  const ownerSelect = (html: string) => /<select id="bp-owner"[\s\S]*?<\/select>/.exec(html)?.[0] ?? '';
  const options = (html: string) => [...ownerSelect(html).matchAll(/<option value="([^"]*)"[^>]*>([^<]*)<\/option>/g)].map((m) => ({ value: m[1]!, label: m[2]! }));
  const idOf = async (table: 'crm_users' | 'crm_groups', column: string, value: string) =>
    Number(((await api.database.sequelize.query(`SELECT id FROM ${table} WHERE ${column} = :value`, { replacements: { value }, plain: true })) as { id: unknown }).id);
  const setOwner = async (kind: 'user' | 'group', ownerId: number) => {
    const { general, profile } = await service.document(id);
    await service.saveSection(id, 'general', { ...general, owner: { kind, id: ownerId } }, profile.version, actor);
  };

  before(async () => {
    test = await startTestHost();
    api = test.host.api;
    service = profileService(api);
    admin = await adminClient(test);
    actor = await adminActor(api);
    id = (await service.create({ name: 'Many owners', description: '', startFrom: null }, actor)).id;
    smallPage = await privileges();
    const qi = api.database.sequelize.getQueryInterface();
    const now = new Date();
    await addCrmUsers(api.database.sequelize, USERS, (i) => ({
      userName: `agent${String(i).padStart(4, '0')}`,
      firstName: i === 123 ? 'Zelda' : 'Agent',
      lastName: i === 123 ? 'Quokka' : `Number${i}`,
      email: `agent${i}@example.com`,
      active: i % 10 !== 0,
    }));
    await qi.bulkInsert('crm_groups', Array.from({ length: GROUPS }, (_, i) => ({ name: i === 7 ? 'Quokka desk' : `Desk ${i}`, description: '', created_at: now })));
    const select = { type: QueryTypes.SELECT } as const;
    const userIds = await api.database.sequelize.query<{ id: unknown }>("SELECT id FROM crm_users WHERE user_name LIKE 'agent%' ORDER BY id", select);
    const groupIds = await api.database.sequelize.query<{ id: unknown }>("SELECT id FROM crm_groups WHERE name LIKE 'Desk %' OR name = 'Quokka desk' ORDER BY id", select);
    await qi.bulkInsert('crm_group_members', userIds.map((u, i) => ({ group_id: Number(groupIds[i % GROUPS]!.id), user_id: Number(u.id) })));
  });
  after(async () => {
    await test?.stop();
  });

  it('a small CRM keeps one dropdown of every user and group, without a search', () => {
    const listed = options(smallPage).map((o) => o.value);
    expect(listed).to.include.members(['', 'group:1', 'group:2']);
    expect(listed.filter((v) => v.startsWith('user:'))).to.have.length(5);
    expect(smallPage).not.to.include('name="ownerSearch"');
  });

  it('past the limit, lists the chosen owner and a search instead of every user: the page stays as small', async () => {
    const zelda = await idOf('crm_users', 'user_name', 'agent0123');
    await setOwner('user', zelda);
    const html = await privileges();
    expect(options(html)).to.deep.equal([
      { value: '', label: 'Not set' },
      { value: `user:${zelda}`, label: 'Zelda Quokka (agent0123)' },
    ]);
    expect(sentValue(ownerSelect(html)), 'the stored owner is what the section sends back').to.equal(`user:${zelda}`);
    expect(html.length, 'bytes beside the same page of a 5-user CRM').to.be.below(smallPage.length + 3_000);
    // The search is a form of its own (GET, no script needed), its field labelled, reached by the keyboard in the page's order.
    expect(html).to.match(new RegExp(`<form id="bp-owner-search" method="get" action="${SETTINGS}/profiles/${id}/privileges#bp-general"`));
    expect(html).to.match(/<label for="bp-owner-search-text">Find a user or group<\/label>\s*<input id="bp-owner-search-text" type="search" name="ownerSearch" form="bp-owner-search"/);
    expect(html).to.match(/<button type="submit" form="bp-owner-search">Find<\/button>/);
    expect(html).to.include(`The CRM has ${USERS + 5} users and ${GROUPS + 2} groups: type part of a name, user name or email and choose Find to list them here.`);
  });

  it('a search lists the users and groups it names, the chosen owner kept first, and says when it shows only some', async () => {
    const zelda = await idOf('crm_users', 'user_name', 'agent0123');
    const desk = await idOf('crm_groups', 'name', 'Quokka desk');
    const found = await privileges('?ownerSearch=quokka');
    expect(options(found)).to.deep.equal([
      { value: '', label: 'Not set' },
      { value: `user:${zelda}`, label: 'Zelda Quokka (agent0123)' },
      { value: `group:${desk}`, label: 'Quokka desk' },
    ]);
    expect(found).to.include('value="quokka"');
    expect(found).to.include('2 users or groups match “quokka”.');

    // Another user's email: listed beside the owner, who stays selected.
    const other = await privileges('?ownerSearch=agent77%40example.com');
    const agent77 = await idOf('crm_users', 'user_name', 'agent0077');
    expect(options(other).map((o) => o.value)).to.deep.equal(['', `user:${zelda}`, `user:${agent77}`]);
    expect(sentValue(ownerSelect(other))).to.equal(`user:${zelda}`);

    const many = await privileges('?ownerSearch=Agent');
    expect(options(many).filter((o) => o.value.startsWith('user:'))).to.have.length(OWNER_MATCHES_SHOWN + 1);
    expect(many).to.include(`${USERS} users or groups match “Agent”: the first ${OWNER_MATCHES_SHOWN} are listed, type more of the name to narrow them.`);
    // An inactive user is marked as on the small CRM's list.
    expect(ownerSelect(many)).to.include('<option value="user:').and.include('Agent Number0 (agent0000) — inactive');

    const none = await privileges('?ownerSearch=%3Cb%3Enobody');
    expect(options(none)).to.have.length(2);
    expect(none).to.include('No user or group matches “&lt;b&gt;nobody”.');

    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const italian = await privileges('?ownerSearch=quokka');
      expect(italian).to.match(/<label for="bp-owner-search-text">Cerca un utente o un gruppo<\/label>/);
      expect(italian).to.match(/<button type="submit" form="bp-owner-search">Cerca<\/button>/);
      expect(italian).to.include('2 utenti o gruppi corrispondono a “quokka”.');
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('the profile page and an audit entry read only the users and groups their changes name', async () => {
    const desk = await idOf('crm_groups', 'name', 'Quokka desk');
    await setOwner('group', desk);
    const sequelize = api.database.sequelize;
    const whole = (sql: string) => /FROM crm_group_members(?! WHERE)|FROM crm_users(?! WHERE)|FROM crm_groups(?! WHERE)/.test(sql);
    const pageStatements = recordStatements(sequelize);
    let page: string;
    try {
      page = await (await admin.get(`${SETTINGS}/profiles/${id}`)).text();
    } finally {
      pageStatements.stop();
    }
    const link = /href="([^"]+\/changes\/\d+)"/.exec(page)?.[1];
    const entryStatements = recordStatements(sequelize);
    let entry: string;
    try {
      entry = await (await admin.get(link!)).text();
    } finally {
      entryStatements.stop();
    }
    expect(page).to.include('Quokka desk (group)');
    expect(entry).to.include('Zelda Quokka (agent0123) → Quokka desk (group)');
    expect([...pageStatements.sql, ...entryStatements.sql].filter(whole), 'statements reading every user or group').to.deep.equal([]);
    // Whether the entry's profile still exists is one row, not every profile with its number of portal users.
    expect(entryStatements.sql.filter((sql) => /bp_portal_accounts/.test(sql)), 'portal users counted for an audit entry').to.deep.equal([]);
  });
});
