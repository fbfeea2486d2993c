import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { defaultRootDir } from '../../plugin/lifecycle/plugin-files.js';
import { flattenLocale, textsOf, type LocaleText } from '../../plugin/i18n/translator.js';

const localesDir = resolve(defaultRootDir, 'locales');

/** Every file of `folder` (and below) whose name ends with one of `extensions`. */
function filesUnder(folder: string, extensions: readonly string[]): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return filesUnder(path, extensions);
    return extensions.some((extension) => name.endsWith(extension)) ? [path] : [];
  });
}

/**
 * Who may name a key: the plugin's code (literally, `'auth.login.title'`, or built, `` `privileges.rules.ops.${op}` ``
 * and a prefix the code completes, `out.label('privileges.modules.access', value)`), its templates
 * (`{{t "…"}}`) and the manifest (a settings entry's `labelKey`, and its `…Description`).
 */
function keysNamedBy(sources: readonly string[], keys: readonly string[]): Set<string> {
  const named = new Set<string>();
  const known = new Set(keys);
  for (const source of sources) {
    for (const [, text] of source.matchAll(/['"`]([a-z][A-Za-z0-9]*(?:\.(?:[A-Za-z0-9]+|\$\{[^}`]+\}))+)['"`]/g)) {
      if (known.has(text!)) {
        named.add(text!);
        named.add(`${text}Description`);
        continue;
      }
      const pattern = new RegExp(`^${text!.split(/\$\{[^}]+\}/).map((part) => part.replace(/\./g, '\\.')).join('[A-Za-z0-9]+')}(\\.|$)`);
      for (const key of keys) if (pattern.test(key)) named.add(key);
    }
  }
  return named;
}
const read = (file: string) => flattenLocale(JSON.parse(readFileSync(join(localesDir, file), 'utf8')), file);
const placeholders = (text: string) => [...text.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]).sort();
/** The text whose placeholders every form must have: the text, or the `other` form. */
const mainText = (message: LocaleText | undefined) => (message === undefined ? '' : typeof message === 'string' ? message : message.other);

/**
 * Words another language writes as English does: the product's name, and the loanwords of the trade that the
 * Italian product keeps (the manual's "template email", "ticket", "account SMTP"…). A text the same as English must
 * be made of these only; any other sameness is English left untranslated.
 */
const BORROWED = new Set(['business', 'portal', 'email', 'password', 'menu', 'home', 'template', 'ticket', 'standard', 'no', 'default']);
/** English words no Italian sentence has (Italian shares "a", "in", "no", "come"…; not these). */
const ENGLISH_ONLY = /(^|[^\p{L}])(the|and|of|to|with|your|you|is|are|was|were|this|that|these|for|from|please|has|have|cannot|could|will|be|by|at|on|or|not|its|an|as|if|yet|here|there|which|who|what|when|than|every|been|into|must|may)(?=[^\p{L}’']|$)/giu;
/**
 * The English words left in `text`, leaving out what is meant to stay as written: placeholders, a JSON name in
 * straight quotes ("email"), and technical tokens (Content-Type, X-Requested-With, multipart/form-data, UTF-8).
 */
function englishLeftIn(text: string): string[] {
  const prose = text
    .replace(/\{[A-Za-z0-9_]+\}/g, ' ')
    .replace(/"[^"]*"/g, ' ')
    .replace(/[\p{L}\p{N}]+(?:[-/][\p{L}\p{N}]+)+/gu, ' ');
  return [...prose.matchAll(ENGLISH_ONLY)].map((match) => match[2]!.toLowerCase());
}
/** The words of a text written exactly as in English that are not borrowed words. */
function copiedFromEnglish(text: string, english: string): string[] {
  if (text !== english) return [];
  return [...text.replace(/\{[A-Za-z0-9_]+\}/g, ' ').matchAll(/\p{L}+/gu)].map(([word]) => word.toLowerCase()).filter((word) => !BORROWED.has(word));
}

describe('locales', () => {
  const english = read('en.json');

  it('writes every plural message with the categories English uses, each form with {count}', () => {
    for (const [key, message] of english) {
      if (typeof message === 'string') continue;
      expect(Object.keys(message).sort(), key).to.deep.equal(['one', 'other']);
      for (const text of textsOf(message)) expect(placeholders(text), key).to.include('count');
    }
  });

  it('holds no key that nothing uses (the code, a template or the manifest): a text nobody shows is left to rot', () => {
    const sources = [...filesUnder(resolve(defaultRootDir, 'plugin'), ['.ts', '.js']), ...filesUnder(resolve(defaultRootDir, 'templates'), ['.hbs']), resolve(defaultRootDir, 'manifest.json')].map((file) => readFileSync(file, 'utf8'));
    const keys = [...english.keys()];
    const named = keysNamedBy(sources, keys);
    expect(keys.filter((key) => !named.has(key))).to.deep.equal([]);
  });

  it('finds the keys a source names, literally, built or by a prefix (the check can fail)', () => {
    const keys = ['a.b', 'a.c', 'ops.eq', 'ops.ne', 'p.access.x', 'menu.x', 'menu.xDescription', 'unused.key'];
    const named = keysNamedBy(["t('a.b')", 'const k = `ops.${op}`', "out.label('p.access', v)", '{ "labelKey": "menu.x" }'], keys);
    expect(keys.filter((key) => !named.has(key))).to.deep.equal(['a.c', 'unused.key']);
  });

  it('finds English left in a translation, and leaves placeholders, JSON names and technical tokens alone (the check can fail)', () => {
    expect(englishLeftIn('Salva the profile and esci')).to.deep.equal(['the', 'and']);
    expect(englishLeftIn('Please try again later.')).to.deep.equal(['please']);
    expect(englishLeftIn('Invia un oggetto JSON con "email" e "password" (true o false) in UTF-8, Content-Type: application/json, {path}')).to.deep.equal([]);
    expect(englishLeftIn('dall’API, all’elenco, nell’ultima ora')).to.deep.equal([]);
    expect(copiedFromEnglish('Save', 'Save')).to.deep.equal(['save']);
    expect(copiedFromEnglish('Ticket {number}', 'Ticket {number}')).to.deep.equal([]);
    expect(copiedFromEnglish('Salva', 'Save')).to.deep.equal([]);
  });

  it('has every key a template asks for ({{t "…"}}), which would fail the page only when that part is drawn', () => {
    for (const file of filesUnder(resolve(defaultRootDir, 'templates'), ['.hbs'])) {
      for (const [, key] of readFileSync(file, 'utf8').matchAll(/[{(]\s*t\s+"([^"]+)"/g)) expect(english.has(key!), `${file}: ${key}`).to.equal(true);
    }
  });

  const others = readdirSync(localesDir).filter((f) => /^[a-z]{2}\.json$/.test(f) && f !== 'en.json');

  it('include Italian beside English', () => {
    expect(others).to.include('it.json');
  });

  it('prefix every key by capability', () => {
    for (const key of english.keys()) expect(key, key).to.match(/^(menu|settings|profiles|privileges|classic|eligibility|contacts|loginCheck|portal|records|tickets|api|errors|auth|mail)\.[A-Za-z0-9.]+$/);
  });

  for (const file of readdirSync(localesDir).filter((f) => /^[a-z]{2}\.json$/.test(f) && f !== 'en.json')) {
    describe(file, () => {
      const locale = read(file);

      it('has exactly the English keys', () => {
        expect([...locale.keys()].filter((k) => !english.has(k)), 'keys English lacks').to.deep.equal([]);
        expect([...english.keys()].filter((k) => !locale.has(k)), 'English keys it lacks').to.deep.equal([]);
      });

      it('has no empty text and the same placeholders as English, in every plural form', () => {
        for (const [key, message] of locale) {
          for (const text of textsOf(message)) {
            expect(text.trim(), key).not.to.equal('');
            expect(placeholders(text), key).to.deep.equal(placeholders(mainText(english.get(key))));
          }
        }
      });

      it('leaves no English untranslated: no English sentence word, and no text copied from English but borrowed words', () => {
        for (const [key, message] of locale) {
          const source = english.get(key);
          for (const text of textsOf(message)) {
            expect(englishLeftIn(text), `${key}: ${text}`).to.deep.equal([]);
            if (typeof message === 'string' && typeof source === 'string') expect(copiedFromEnglish(text, source), `${key}: ${text}`).to.deep.equal([]);
          }
        }
      });

      it('uses only the plural categories of its language, and has plural forms where English has them', () => {
        const language = file.slice(0, 2);
        const categories = new Intl.PluralRules(language).resolvedOptions().pluralCategories as string[];
        for (const [key, message] of locale) {
          if (typeof message !== 'string') expect(categories, key).to.include.members(Object.keys(message));
          if (typeof english.get(key) !== 'string') expect(message, `${key}: English has plural forms`).to.be.an('object');
        }
      });
    });
  }

  // vtenext's Italian manual (chapter 18.3) names these things so; the Italian product follows it.
  describe('it.json: the vocabulary of the Italian manual', () => {
    const italian = read('it.json');
    const manual: Record<string, string> = {
      'menu.loginCheck': 'Controllo login Business Portal',
      'loginCheck.title': 'Controllo login Business Portal',
      'portal.contactBlock.title': 'Informazioni Business Portal',
      'profiles.heading': 'Profili',
      'profiles.new': 'Nuovo profilo',
      'privileges.open': 'Privilegi',
      'profiles.sections.globals': 'Privilegi globali',
      'profiles.sections.rules': 'Campi condizionali',
      'privileges.globals.viewAll': 'Vedi tutto',
      'privileges.globals.editAll': 'Modifica tutto',
      'privileges.twoFactor.none': 'Disattivata',
      'privileges.general.twoFactorFallback': 'Autenticazione a due fattori alternativa',
      'contacts.portalUser.supportStart': 'Data inizio supporto',
      'contacts.portalUser.supportEnd': 'Data fine supporto',
      'classic.basic.heading': 'Impostazioni base',
      'classic.advanced.heading': 'Impostazioni avanzate',
      'classic.user.heading': 'Seleziona l’utente',
      'classic.template.heading': 'Seleziona il template',
      'tickets.resolve': 'OK, risolto',
      'contacts.portalUser.heading': 'Utente portale',
      'contacts.portalUser.portalUser': 'Utente portale',
      'loginCheck.lockedHeading': 'Utenti portale bloccati',
      'profiles.newTitle': 'Nuovo profilo portale',
      'auth.loginHistory.reasons.wrongCode': 'codice di verifica errato',
      'privileges.notifications.smtp.default': 'Default',
      'privileges.notifications.smtp.global': 'Globale',
      'privileges.notifications.smtpAccount': 'Account SMTP',
      'privileges.notifications.senderName': 'Nome mittente',
    };
    it('says “utente portale”, “profilo portale” and “contatto portale” as the manual does, never “… del portale”', () => {
      for (const [key, message] of italian) {
        for (const text of textsOf(message)) expect(text, key).not.to.match(/(utent|profil|contatt)[eio] del portale/iu);
      }
    });
    it('writes the apostrophe one way, the typographic ’ (l’utente, dell’API), and quotes names with “ ”', () => {
      for (const [key, message] of italian) {
        for (const text of textsOf(message)) {
          expect(text, key).not.to.match(/\p{L}'\p{L}/u);
          expect(text, key).not.to.match(/"\{[A-Za-z0-9_]+\}"/);
          expect(text, `${key}: quotes are “ ”, never « »`).not.to.match(/[«»]/u);
        }
      }
    });

    it('never writes “dal”, “il” or “al” straight before a date: “dal 8 dic” is wrong Italian (“dall’8”), “dal giorno 8 dic” is right for every day', () => {
      for (const [key, message] of italian) {
        for (const text of textsOf(message)) expect(text, key).not.to.match(/(^|[^\p{L}])(dal|il|al) \{(time|date)\}/u);
      }
    });
    it('never makes a participle agree with {item}, whose gender it cannot know (a list column, a button or a rule)', () => {
      for (const [key, message] of italian) {
        for (const text of textsOf(message)) expect(text, key).not.to.match(/\{item\} \p{L}+(at|it|ut)[oaie]([^\p{L}]|$)/u);
      }
    });

    it('uses one word per concept: “lista correlata” (never “elenco correlato”), “attivare” a module (never “abilitare”)', () => {
      for (const [key, message] of italian) {
        for (const text of textsOf(message)) expect(text, key).not.to.match(/elenc[oh]i? correlat|\babilit/iu);
      }
    });
    it('addresses the reader as “tu” throughout, as the portal’s pages and mails do (never “Lei”, “Suo”, “La preghiamo”, “Inserisca”)', () => {
      for (const [key, message] of italian) {
        for (const text of textsOf(message)) {
          expect(text, key).not.to.match(/(^|[^\p{L}])(Lei|Suo|Sua|Suoi|Sue|La preghiamo|Le chiediamo)(?=[^\p{L}]|$)/u);
          // An order opens a sentence; the same form inside one is a subjunctive (“un template che non lo inserisca”).
          expect(text, key).not.to.match(/(^|[.:;!?] )(inserisca|scelga|prema|riprovi|attenda|verifichi|clicchi|ricarichi|scriva|indichi)(?=[^\p{L}]|$)/iu);
        }
      }
    });

    it('does not guess whether a user or a contact is a man or a woman (“assegnati a lui”, “renderlo utente portale” for {name})', () => {
      for (const [key, message] of italian) {
        for (const text of textsOf(message)) expect(text, key).not.to.match(/(^|[^\p{L}])(lui|lei)(?=[^\p{L}]|$)|render(lo|la) utente/u);
      }
    });

    it('calls an email template “template” (as the manual: “Seleziona il template”), never “modello”', () => {
      for (const [key, message] of italian) {
        for (const text of textsOf(message)) expect(text, key).not.to.match(/(^|[^\p{L}])modell[oi](?=[^\p{L}]|$)/iu);
      }
    });

    it('calls the address a portal user signs in with “email di accesso” (the contact block’s label), never “il login”', () => {
      expect(italian.get('contacts.portalUser.loginEmail')).to.equal('Email di accesso');
      for (const [key, message] of italian) {
        for (const text of textsOf(message)) expect(text, key).not.to.match(/(^|[^\p{L}])(il|un|lo stesso|del|al|nel) login(?=[^\p{L}]|$)/iu);
      }
    });

    it('says “dati di accesso” for access details, as the manual does (“Dati di registrazione ed accesso”), and “credenziali” only where English says credentials', () => {
      for (const [key, message] of italian) {
        for (const text of textsOf(message)) if (/credenziali/u.test(text)) expect(mainText(english.get(key)), key).to.match(/credentials/);
      }
    });

    it('does not write “ogni ora di quel giorno” for every time in a day: “ora” is an hour', () => {
      for (const [key, message] of italian) {
        for (const text of textsOf(message)) expect(text, key).not.to.match(/ogni ora di quel/u);
      }
    });

    it('never puts a number that can be 1 straight before a plural noun outside plural forms (“1 campi mostrati”)', () => {
      for (const [key, message] of italian) {
        if (typeof message !== 'string') continue;
        expect(message, key).not.to.match(/\{(shown|modules|buttons|rules|skipped)\} \p{L}+[ie](?=[^\p{L}]|$)/u);
      }
    });

    // Calques of the English rewritten as Italian says it; each pinned so that a later edit does not bring the calque back.
    const phrasing: Record<string, string> = {
      'portal.list.searchRefused': 'Questa ricerca o questo ordinamento non è possibile qui: viene mostrato l’elenco completo.',
      'portal.list.exportRefused': 'Questa ricerca o questo ordinamento non è possibile qui, quindi non è stato esportato nulla.',
      'profiles.audit.change.buttonsMoved': 'Ordine dei pulsanti modificato',
      'profiles.audit.change.rulesMoved': 'Ordine delle regole modificato',
      'profiles.skipped.module': 'Modulo {name}: non disponibile per il portale in questo CRM.',
      'profiles.skipped.field': 'Campo {name}: non esiste in questo CRM.',
      'profiles.skipped.listColumn': 'Colonna dell’elenco {name}: il campo non esiste in questo CRM.',
      'portal.account.passwordIntro': 'Scrivi la password attuale, poi due volte quella nuova. Le sessioni aperte sugli altri dispositivi vengono chiuse; quella su questo dispositivo resta aperta.',
      'classic.user.missing': 'L’utente scelto non esiste più nel CRM: finché non ne scegli un altro, i ticket aperti dal portale non hanno assegnatario, come con “Nessun utente scelto”, e nessuno riceve un’email.',
      'privileges.notifications.senderEmail': 'Email mittente',
      'auth.twoFactor.expired': 'Il codice di verifica è scaduto oppure sono stati fatti troppi tentativi. Accedi di nuovo.',
      'auth.reset.formExpired': 'Il modulo era scaduto: reinserisci la nuova password.',
      'privileges.notifications.templateMissing': 'Il template scelto in precedenza non esiste più nel CRM: vale la prima opzione dell’elenco finché non ne scegli un altro.',
    };
    for (const [key, text] of Object.entries(phrasing)) {
      it(`${key} reads as Italian, not as English word for word: "${text}"`, () => {
        expect(english.has(key), `${key} is a key`).to.equal(true);
        expect(italian.get(key)).to.equal(text);
      });
    }

    it('offers “Qualsiasi” in a list filter, which agrees with a column of either gender (“Tutti” does not)', () => {
      expect(italian.get('portal.list.any')).to.equal('Qualsiasi');
    });

    it('does not say a privileges section saves itself (“si salva da sola” reads as autosave): each has its Save button', () => {
      expect(italian.get('privileges.intro')).not.to.match(/da sol[ao]/u);
      expect(italian.get('privileges.intro')).to.include('pulsante Salva');
    });

    for (const [key, text] of Object.entries(manual)) {
      it(`${key} reads "${text}"`, () => {
        expect(english.has(key), `${key} is a key`).to.equal(true);
        expect(italian.get(key)).to.equal(text);
      });
    }
  });
});
