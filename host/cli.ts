/**
 * Module registry commands for host developers: `npm run host -- <command>`.
 * Every change bumps the stored metadata revision, so a running host picks it up through
 * `registry.sync()` (its watcher) without a restart. `unlock-user` is for operators: it lifts
 * a CRM user's login lock (the only admin's, say) at once, on every host process.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Sequelize } from 'sequelize';
import type { HostLogger, ModuleDefinition, RelationDefinition } from '../plugin/host-contract/index.js';
// The host's modules (Sequelize, the drivers, Express…) are imported where a command runs: the usage
// and a refused argument answer without loading them (about half a second of CPU, not 1.8 s).
import type { LargeDataProgress } from './scale/large-data.js';
import type { SqlModuleRegistry } from './registry/module-registry.js';

const USAGE = `Usage: npm run host -- <command>   (--help, -h: this text)
  modules [--json]                                  list the modules, whether they are custom, and their relations
  register-module <file.json>                       register a module from a ModuleDefinition JSON file
  add-relation --module X --related Y [--field f]   add a reference field X.f → Y, or (without --field) a related list X~Y
      [--add-target]                                give the existing reference field X.f the further target Y (a reference
                                                    to several modules, no path to a customer for the portal)
  remove-relation <id>                              remove a relation (a reference removes its field when it was its only target)
  generate --seed N [--scale S]                     fill an empty CRM with a large generated one (scale 1: 500,000 tickets), see README
  unlock-user <userName>                            unlock a CRM user locked after five failed sign-ins, and clear their count
DATABASE_URL selects the database (default sqlite:data/crm.sqlite, or crm.sqlite in DATA_DIR).`;

class UsageError extends Error {}

/** Warnings and errors go to stderr; the CLI's own output is its result. */
const logger: HostLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => console.error(`warning: ${message}`),
  error: (message) => console.error(`error: ${message}`),
};

type Action = (registry: SqlModuleRegistry, sequelize: Sequelize) => Promise<string>;

function describeModules(registry: SqlModuleRegistry, json: boolean): string {
  if (json) {
    return JSON.stringify(
      registry.modules().map((m) => ({ name: m.name, custom: m.custom, label: m.label, fields: m.fields.length, relations: registry.relations(m.name) })),
      null,
      2,
    );
  }
  if (registry.modules().length === 0) return 'No modules registered.';
  const lines: string[] = [];
  for (const module of registry.modules()) {
    lines.push(`${module.name} (${module.custom ? 'custom' : 'standard'}) — ${module.label.en}, ${module.fields.length} fields, table ${registry.tableName(module.name)}`);
    const relations = registry.relations(module.name);
    if (relations.length === 0) lines.push('    no relations');
    for (const relation of relations) {
      const arrow = relation.kind === 'reference' ? `${relation.module}.${relation.field} → ${relation.relatedModule}` : `${relation.module} ↔ ${relation.relatedModule}`;
      lines.push(`    ${relation.id}  [${relation.kind}]  ${arrow}`);
    }
  }
  return lines.join('\n');
}

/** Parses the command line into an action before any database is opened. */
function parseCommand(argv: readonly string[]): Action {
  const [command, ...rest] = argv;
  const parse = (options: ParseArgsConfig['options'], positionals: number): { values: Record<string, unknown>; positionals: string[] } => {
    try {
      const parsed = parseArgs({ args: [...rest], options, allowPositionals: positionals > 0, strict: true });
      if (parsed.positionals.length !== positionals) throw new UsageError(`"${command}" expects ${positionals} argument(s)`);
      return { values: parsed.values as Record<string, unknown>, positionals: parsed.positionals };
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
  };
  switch (command) {
    case 'modules': {
      const { values } = parse({ json: { type: 'boolean' } }, 0);
      return async (registry) => describeModules(registry, values.json === true);
    }
    case 'register-module': {
      const file = parse({}, 1).positionals[0]!;
      return async (registry) => {
        let definition: ModuleDefinition;
        try {
          definition = JSON.parse(await readFile(file, 'utf8')) as ModuleDefinition;
        } catch (error) {
          const reason = error instanceof SyntaxError ? `is not valid JSON (${error.message})` : 'cannot be read';
          throw new UsageError(`${file} ${reason}`);
        }
        await registry.registerModule(definition);
        const module = registry.module(definition.name)!;
        return `Registered module ${module.name} (table ${registry.tableName(module.name)}, ${module.fields.length} fields, ${registry.relations(module.name).length} relations).`;
      };
    }
    case 'add-relation': {
      const { values } = parse({ module: { type: 'string' }, related: { type: 'string' }, field: { type: 'string' }, 'add-target': { type: 'boolean' } }, 0);
      if (typeof values.module !== 'string' || typeof values.related !== 'string') throw new UsageError('add-relation needs --module and --related');
      const [module, related, field] = [values.module, values.related, values.field as string | undefined];
      const addTarget = values['add-target'] === true;
      if (addTarget && field === undefined) throw new UsageError('--add-target gives an existing reference field a further target: it needs --field');
      return async (registry) => {
        if (field === undefined) {
          const relation: RelationDefinition = { id: `${module}~${related}`, kind: 'related-list', module, relatedModule: related };
          await registry.addRelation(relation);
          return `Added relation ${relation.id}: a related list between ${module} and ${related}.`;
        }
        const existing = registry.field(module, field);
        if (!existing) {
          if (addTarget) throw new UsageError(`--add-target gives an existing reference field a further target: ${module} has no field "${field}"`);
          await registry.addRelation({ id: `${module}.${field}`, kind: 'reference', module, relatedModule: related, field });
          return `Added relation ${module}.${field}: a new reference field ${module}.${field} → ${related}.`;
        }
        const targets = existing.referenceModules ?? [];
        // A field that may point at several modules holds a bare id of none of them in particular:
        // it is no path to a customer (plugin/eligibility/module-eligibility.ts), so a module related
        // to Contacts / Accounts through it alone leaves the portal. Only on purpose, then.
        if (existing.type === 'reference' && !targets.includes(related) && !addTarget) {
          throw new UsageError(
            `Field ${module}.${field} already refers to ${targets.join(' or ')}: adding ${related} would make it a reference to several modules, ` +
              `which is no path to a customer for the portal. Run again with --add-target to do so, or name another --field for a new reference field.`,
          );
        }
        const id = `${module}.${field}:${related}`;
        await registry.addRelation({ id, kind: 'reference', module, relatedModule: related, field });
        const renamed = targets.length === 1 ? `, and its relation ${module}.${field} is now ${module}.${field}:${targets[0]}` : '';
        return (
          `Added relation ${id}: ${module}.${field} now refers to ${[...targets, related].join(' or ')}${renamed}. ` +
          'A reference to several modules is no path to a customer for the portal.'
        );
      };
    }
    case 'remove-relation': {
      const id = parse({}, 1).positionals[0]!;
      return async (registry) => {
        const relation = registry.relation(id);
        await registry.removeRelation(id);
        if (relation?.kind !== 'reference') return `Removed relation ${id}.`;
        const field = registry.field(relation.module, relation.field!);
        const name = `${relation.module}.${relation.field}`;
        if (!field) return `Removed relation ${id} (field ${name} removed).`;
        // The field keeps its other targets; with one left it is a path to a customer again, under the plain id.
        const targets = field.referenceModules ?? [];
        const renamed = targets.length === 1 ? `, and its relation ${name}:${targets[0]} is now ${name}` : '';
        return `Removed relation ${id}: ${name} now refers to ${targets.join(' or ')}${targets.length === 1 ? ' only' : ''}${renamed}.`;
      };
    }
    case 'unlock-user': {
      const userName = parse({}, 1).positionals[0]!;
      return async (_registry, sequelize) => {
        const { CrmLoginLockout } = await import('./users/login-lockout.js');
        const outcome = await new CrmLoginLockout(sequelize).unlock(userName);
        if (outcome === 'unknown') throw new Error(`No CRM user named "${userName}"`);
        return outcome === 'unlocked' ? `Unlocked CRM user ${userName}.` : `CRM user ${userName} was not locked; its count of failed sign-ins is cleared.`;
      };
    }
    case undefined:
      throw new UsageError(USAGE);
    default:
      throw new UsageError(`Unknown command "${command}"\n${USAGE}`);
  }
}

/** One line redrawn in place on a terminal; a line per tenth otherwise (logs, CI). */
function progressBar(): (progress: LargeDataProgress) => void {
  const started = Date.now();
  let lastTenth = -1;
  return ({ phase, done, total }) => {
    const ratio = total === 0 ? 1 : done / total;
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const line = `[${'#'.repeat(Math.round(ratio * 30)).padEnd(30, '.')}] ${(ratio * 100).toFixed(0).padStart(3)}%  ${done.toLocaleString('en')}/${total.toLocaleString('en')} rows  ${phase}  ${seconds}s`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line.padEnd(100)}`);
    else if (Math.floor(ratio * 10) > lastTenth) {
      lastTenth = Math.floor(ratio * 10);
      process.stderr.write(`${line}\n`);
    }
  };
}

/** `generate`: the whole reference host is started (standard modules, users, the plugin installed), then filled. */
async function generate(args: readonly string[]): Promise<string> {
  let values: { seed?: string; scale?: string };
  // `--seed -1`: parseArgs would take -1 for an option and answer in three lines; as `--seed=-1` it is a value, refused below.
  const glued: string[] = [];
  for (const arg of args) {
    const last = glued.at(-1);
    if ((last === '--seed' || last === '--scale') && /^-[^-]/.test(arg)) glued[glued.length - 1] = `${last}=${arg}`;
    else glued.push(arg);
  }
  try {
    ({ values } = parseArgs({ args: glued, options: { seed: { type: 'string' }, scale: { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.split('\n')[0]! : String(error));
  }
  if (values.seed === undefined || !/^\d{1,9}$/.test(values.seed)) throw new UsageError('generate needs --seed with a whole number, e.g. --seed 42');
  // Decimals only: Number() would also read `0x1`, `0b1` or ` 1` as the full size.
  const scale = values.scale === undefined ? 1 : /^(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(values.scale) ? Number(values.scale) : NaN;
  if (!(scale > 0 && scale <= 10)) throw new UsageError('--scale must be a number above 0 and at most 10, e.g. 0.01');
  const seed = Number(values.seed);
  const [{ readConfig }, { createReferenceHost }, { generateLargeData, SCALE_PORTAL_PASSWORD }] = await Promise.all([
    import('./config.js'),
    import('./reference-host.js'),
    import('./scale/large-data.js'),
  ]);
  const host = await createReferenceHost({ ...readConfig(), demo: false, logLevel: 'warn', watchRegistryMs: 0 });
  try {
    await host.start();
    const summary = await generateLargeData(host, { seed, scale, onProgress: progressBar() });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const c = summary.counts;
    return [
      `Generated in ${summary.seconds.toFixed(1)} s (seed ${seed}, scale ${scale}):`,
      `  ${c.accounts} accounts, ${c.contacts} contacts (${c.portalUsers} portal users), ${c.tickets} tickets, ${c.comments} comments,`,
      `  ${c.documents} documents, ${c.invoices} invoices, ${c.quotes} quotes`,
      `Portal logins (password ${SCALE_PORTAL_PASSWORD}):`,
      ...summary.sampleLogins.map((l) => `  ${l.email}  (contact ${l.contactId}, account ${l.accountId ?? 'none'})`),
    ].join('\n');
  } finally {
    await host.close();
  }
}

async function main(argv: readonly string[]): Promise<string> {
  // `--help` after a command too (`generate --help`): the usage, before anything is opened or run.
  if (argv[0] === 'help' || argv.includes('--help') || argv.includes('-h')) return USAGE;
  if (argv[0] === 'generate') return generate(argv.slice(1));
  const action = parseCommand(argv);
  const [{ defaultDatabaseUrl }, { openDatabase }, { SqlModuleRegistry }, { migrateHost }] = await Promise.all([
    import('./config.js'),
    import('./database.js'),
    import('./registry/module-registry.js'),
    import('./schema/migrate.js'),
  ]);
  // As npm start reads it (host/config.ts): empty is the default too.
  const db = await openDatabase(process.env.DATABASE_URL || defaultDatabaseUrl(process.env));
  try {
    await migrateHost(db.sequelize, db.dialect);
    return await action(await SqlModuleRegistry.open(db, logger), db.sequelize);
  } finally {
    await db.sequelize.close();
  }
}

main(process.argv.slice(2)).then(
  (output) => console.log(output),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    // Usage text is several lines on purpose; any other error is one line, without a stack trace.
    console.error(error instanceof UsageError ? message : `Error: ${message.split('\n')[0]}`);
    process.exitCode = 1;
  },
);
