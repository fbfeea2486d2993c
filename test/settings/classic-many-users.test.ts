/**
 * Version 1's "Select user" on a CRM with many users: up to OWNER_LIST_LIMIT the dropdown lists
 * every user, as before; beyond that it lists the chosen user and those a search names (a GET form
 * beside the POST one: no script needed), so that the page of a CRM with 5,000 users is not 330 KB
 * of options. Saving the user found works as before.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import type { HostApi } from '../../plugin/host-contract/index.js';
import { OWNER_LIST_LIMIT, OWNER_MATCHES_SHOWN } from '../../plugin/settings/crm-user-search.js';
import { adminClient, type AdminClient } from '../profiles/profile-test-kit.js';
import { addCrmUsers } from '../support/crm-users.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { SETTINGS, UPGRADED_FROM_V1, userId } from './settings-test-kit.js';

const CLASSIC = `${SETTINGS}/classic`;
const USERS = OWNER_LIST_LIMIT + 100;

describe('settings: version 1 "Select user" on a CRM with many users @db', function () {
  this.timeout(120_000);
  let test: TestHost;
  let api: HostApi;
  let admin: AdminClient;
  let smallPage: string;

  const page = async (query = '') => {
    const response = await admin.get(`${CLASSIC}${query}`);
    expect(response.status).to.equal(200);
    return response.text();
  };
  const userSelect = (html: string) => /<select id="bp-classic-user-id"[\s\S]*?<\/select>/.exec(html)?.[0] ?? '';
  const options = (html: string) => [...userSelect(html).matchAll(/<option value="([^"]*)"[^>]*>([^<]*)<\/option>/g)].map((m) => ({ value: m[1]!, label: m[2]! }));
  const selected = (html: string) => /<option value="([^"]*)" selected>/.exec(userSelect(html))?.[1];

  before(async () => {
    test = await startTestHost({ installOrigin: UPGRADED_FROM_V1 });
    api = test.host.api;
    admin = await adminClient(test);
    smallPage = await page();
    await addCrmUsers(api.database.sequelize, USERS, (i) => ({
      userName: `clerk${String(i).padStart(3, '0')}`,
      firstName: i === 77 ? 'Zelda' : 'Clerk',
      lastName: i === 77 ? 'Quokka' : `Number${i}`,
      email: `clerk${i}@example.com`,
    }));
  });
  after(async () => {
    await test?.stop();
  });

  it('a small CRM keeps one dropdown of every user, without a search', () => {
    expect(options(smallPage).filter((o) => o.value !== '')).to.have.length(5);
    expect(smallPage).not.to.include('name="userSearch"');
  });

  it('past the limit, lists the chosen user and those a search names; the user found is saved as before', async () => {
    const html = await page();
    expect(options(html)).to.deep.equal([{ value: '', label: 'No user chosen' }]);
    expect(html.length, 'bytes beside the same page of a 5-user CRM').to.be.below(smallPage.length + 2_000);
    expect(html).to.match(new RegExp(`<form method="get" action="${CLASSIC}#bp-classic-user" class="bp-filter" role="search">`));
    expect(html).to.match(/<label for="bp-classic-user-search">Find a user<\/label>\s*<input id="bp-classic-user-search" type="search" name="userSearch"/);
    expect(html).to.include(`The CRM has ${USERS + 5} users: type part of a name, user name or email and choose Find to list them here.`);

    const zelda = await userId(api, 'clerk077');
    const found = await page('?userSearch=QUOKKA');
    expect(options(found)).to.deep.equal([
      { value: '', label: 'No user chosen' },
      { value: String(zelda), label: 'Zelda Quokka (clerk077)' },
    ]);
    expect(found).to.include('1 user matches “QUOKKA”.');
    const form = /<form method="post" action="[^"]*\/classic\/user"[\s\S]*?<\/form>/.exec(found)![0];
    const revision = /name="revision" value="([^"]*)"/.exec(form)![1]!;
    const saved = await admin.post(`${CLASSIC}/user`, { revision, userId: String(zelda) });
    expect(saved.status).to.equal(303);

    const after = await page();
    expect(options(after).map((o) => o.value)).to.deep.equal(['', String(zelda)]);
    expect(selected(after)).to.equal(String(zelda));
    const many = await page('?userSearch=clerk');
    expect(options(many)).to.have.length(2 + OWNER_MATCHES_SHOWN);
    expect(selected(many), 'the chosen user stays chosen beside the others found').to.equal(String(zelda));
    expect(many).to.include(`${USERS} users match “clerk”: the first ${OWNER_MATCHES_SHOWN} are listed, type more of the name to narrow them.`);

    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'", { type: QueryTypes.UPDATE });
    try {
      const italian = await page('?userSearch=quokka');
      expect(italian).to.match(/<label for="bp-classic-user-search">Cerca un utente<\/label>/);
      expect(italian).to.include('1 utente corrisponde a “quokka”.');
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'", { type: QueryTypes.UPDATE });
    }
  });
});
