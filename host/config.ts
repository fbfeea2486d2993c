/**
 * The reference host's configuration from the environment:
 * PORT (3000), DATA_DIR (./data: uploaded files, the generated secret, the default SQLite
 * database), DATABASE_URL (sqlite:<DATA_DIR>/crm.sqlite), SMTP_URL, SESSION_SECRET (else generated
 * once and kept in <DATA_DIR>/secret, mode 0600), BASE_URL, PORTAL_PATH, DEMO (on unless "0"/"false"),
 * ADMIN_PASSWORD, LOG_LEVEL (info), TZ_CRM (Europe/Rome), LICENCES (comma-separated; default: what
 * the last start named, else business-portal), INSTALL_ORIGIN (`fresh`, or `upgraded[:<release>]` for a CRM that upgraded
 * from a release with portal version 1; default: what the last start named, else fresh).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dialectOf } from './database.js';
import { isLogLevel } from './logging/line-logger.js';
import { isTimeZone } from './web/regional.js';
import type { InstallOrigin } from '../plugin/host-contract/index.js';
import type { ReferenceHostOptions } from './reference-host.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * The host's secret kept in `<dataDir>/secret`: created once (48 random bytes, readable only by
 * its owner) and read back on every later start, so sessions and plugin secrets survive restarts.
 */
export function loadOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, 'secret');
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length >= 32) return secret;
    throw new ConfigError(`${file} holds too short a secret (delete it to generate a new one)`);
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  // `wx`: never overwrite a secret another process has just written.
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateSecret(dataDir);
    throw error;
  }
  chmodSync(file, 0o600);
  return secret;
}

/** An on/off variable; anything else is refused (a typo in DEMO=0 seeded the demo's known passwords). */
function flag(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  const word = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(word)) return true;
  if (['0', 'false', 'no', 'off'].includes(word)) return false;
  throw new ConfigError(`${name} must be 1 or 0 (also true/false, yes/no, on/off) (got "${value}")`);
}

function port(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535) throw new ConfigError(`PORT must be a port number (got "${value}")`);
  return number;
}

function absoluteUrl(name: string, value: string | undefined): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new ConfigError(`${name} must be an http:// or https:// URL (got "${value}")`);
  }
  // The host serves at the root of its address: a path (a proxy's prefix, say) would lead the
  // links of its mails where nothing answers, and its cookies and redirects ignore it.
  if (url.pathname.replace(/\/+$/, '') !== '' || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(`${name} must be an address without a path, query or user name, such as https://crm.example.com (got "${url.username || url.password ? `${url.protocol}//…@${url.host}` : value}"); the CRM answers at the root of it`);
  }
  return value.replace(/\/+$/, '');
}

/** The scheme of a URL, what a message may repeat of it (the rest may hold a password). */
function schemeOf(value: string): string {
  return value.includes(':') ? `${value.split(':')[0]}:` : value;
}

/** A database server's URL (`postgres://`, `mariadb://`…): one the driver can read, naming a host and the database. */
function serverUrl(value: string): void {
  const scheme = schemeOf(value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    url = new URL('invalid://');
  }
  if (!url.hostname) throw new ConfigError(`DATABASE_URL is not a valid ${scheme}// URL (a host name, then an optional port of digits): write it as ${scheme}//user:password@host:port/database`);
  if (!/^\/[^/]+$/.test(url.pathname)) {
    const example = scheme.startsWith('postgres') ? `${scheme}//user@host:5432/crm` : `${scheme}//user@host:3306/crm`;
    throw new ConfigError(`DATABASE_URL must name the database after the host, such as ${example} (create it first: createdb, or CREATE DATABASE)`);
  }
}

/** An SMTP server's URL: nodemailer reads it only when it first sends, so a typo would fail every mail, not the start. */
function smtpUrlOf(value: string): void {
  if (!/^smtps?:\/\//.test(value)) throw new ConfigError(`SMTP_URL must start with smtp:// or smtps:// (got "${schemeOf(value)}")`);
  let host = '';
  try {
    host = new URL(value).hostname;
  } catch {
    // reported below
  }
  if (!host) throw new ConfigError('SMTP_URL is not a valid URL (a host name, then an optional port of digits): write it as smtp://user:pass@mail.example.com:587');
}

/** The database when DATABASE_URL names none: `crm.sqlite` in DATA_DIR (`data/` of the working directory when that is not set either). */
export function defaultDatabaseUrl(env: NodeJS.ProcessEnv): string {
  return env.DATA_DIR ? `sqlite:${join(resolve(env.DATA_DIR), 'crm.sqlite')}` : 'sqlite:data/crm.sqlite';
}

function databaseUrl(value: string | undefined, env: NodeJS.ProcessEnv): string {
  const url = value || defaultDatabaseUrl(env);
  try {
    dialectOf(url);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (!url.startsWith('sqlite:')) serverUrl(url);
  return url;
}

/** The reference host's own top-level paths: a portal mounted over one of them would hide it. */
const HOST_PATHS = ['login', 'logout', 'settings', 'contacts', 'tickets', 'outbox', 'healthz', 'readyz', 'crm-assets'];

function portalPathOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.length > 1 && value.endsWith('/') && /^(\/[a-z0-9][a-z0-9_-]*)+$/.test(value.replace(/\/+$/, ''))) {
    throw new ConfigError(`PORTAL_PATH must not end with "/" (got "${value}"); write ${value.replace(/\/+$/, '')}`);
  }
  // Each part starts with a letter or a digit: "//" made the portal's links point nowhere.
  if (!/^(\/[a-z0-9][a-z0-9_-]*)+$/.test(value)) {
    throw new ConfigError(`PORTAL_PATH must be a local path of lower-case letters, digits, "-", "_" and "/", such as /portal (got "${value}")`);
  }
  const first = value.split('/')[1]!;
  if (HOST_PATHS.includes(first)) throw new ConfigError(`PORTAL_PATH must not take the CRM's own /${first} (got "${value}"); choose another, such as /portal`);
  return value;
}

function licenceList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const licences = value.split(',').map((l) => l.trim()).filter(Boolean);
  const bad = licences.find((l) => !/^[a-z0-9][a-z0-9._-]*$/.test(l));
  if (bad !== undefined) throw new ConfigError(`LICENCES must be licence names separated by commas, such as business-portal (got "${bad}")`);
  return licences;
}

function installOrigin(value: string | undefined): InstallOrigin | undefined {
  if (!value) return undefined;
  if (value === 'fresh') return { kind: 'fresh' };
  const upgraded = /^upgraded(?::([0-9A-Za-z._-]{1,40}))?$/.exec(value);
  if (!upgraded) throw new ConfigError(`INSTALL_ORIGIN must be "fresh" or "upgraded[:<release>]" (got "${value}")`);
  // No release given: the host does not know it, and says so with an empty name (the contract's way).
  return { kind: 'upgraded', fromRelease: upgraded[1] ?? '', hadPortalVersion1: true };
}

/**
 * The folder of the host's files: DATA_DIR (absolute, or relative to the working directory), else
 * `fallback`. Created if missing, readable only by its owner (0700); one that is a file, or that
 * this user cannot write (a file is written and removed to know), is refused before anything starts:
 * the first upload, or the secret, failed with a stack trace.
 */
function dataDirOf(value: string | undefined, fallback: string): string {
  const dir = value ? resolve(value) : fallback;
  const refused = (why: string) => new ConfigError(`DATA_DIR must be a folder this user may write: "${dir}" ${why}`);
  const code = (error: unknown) => String((error as NodeJS.ErrnoException).code ?? error);
  let found: ReturnType<typeof statSync> | undefined;
  try {
    found = statSync(dir);
  } catch (error) {
    if (!['ENOENT', 'ENOTDIR'].includes(code(error))) throw refused(`cannot be read (${code(error)})`);
  }
  if (!found) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw refused(`could not be created (${code(error)})`);
    }
  } else if (!found.isDirectory()) {
    throw refused(found.isFile() ? 'is a file' : 'is not a folder');
  }
  const probe = join(dir, `.write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(probe, '', { flag: 'wx', mode: 0o600 });
    rmSync(probe);
  } catch (error) {
    throw refused(`cannot be written (${code(error)})`);
  }
  return dir;
}

/** Reads the options of `createReferenceHost` from the environment (for `npm start`). `defaultDataDir`: the folder when DATA_DIR is not set. */
export function readConfig(env: NodeJS.ProcessEnv = process.env, defaultDataDir = resolve('data')): ReferenceHostOptions {
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!isLogLevel(logLevel)) throw new ConfigError(`LOG_LEVEL must be debug, info, warn, error or silent (got "${logLevel}")`);
  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl) smtpUrlOf(smtpUrl);
  const portalPath = portalPathOf(env.PORTAL_PATH);
  const licences = licenceList(env.LICENCES);
  if (env.TZ_CRM && !isTimeZone(env.TZ_CRM)) throw new ConfigError(`TZ_CRM must be an IANA time zone such as Europe/Rome (got "${env.TZ_CRM}")`);
  const baseUrl = absoluteUrl('BASE_URL', env.BASE_URL);
  const origin = installOrigin(env.INSTALL_ORIGIN);
  if (env.SESSION_SECRET && env.SESSION_SECRET.length < 32) throw new ConfigError('SESSION_SECRET must have at least 32 characters');
  const url = databaseUrl(env.DATABASE_URL, env);
  const dataDir = dataDirOf(env.DATA_DIR, defaultDataDir);
  return {
    databaseUrl: url,
    dataDir,
    port: port(env.PORT),
    sessionSecret: env.SESSION_SECRET || loadOrCreateSecret(dataDir),
    demo: flag('DEMO', env.DEMO, true),
    logLevel,
    ...(baseUrl ? { baseUrl } : {}),
    ...(smtpUrl ? { smtpUrl } : {}),
    ...(portalPath ? { portalPath } : {}),
    ...(env.ADMIN_PASSWORD ? { adminPassword: env.ADMIN_PASSWORD } : {}),
    ...(env.TZ_CRM ? { timeZone: env.TZ_CRM } : {}),
    ...(licences ? { licences } : {}),
    ...(origin ? { installOrigin: origin } : {}),
  };
}
