/**
 * CRM user passwords, hashed with scrypt (`node:crypto`, async, off the event loop). Stored as
 * `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` so the cost can be raised later without breaking old hashes.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** log2 of scrypt's cost N for CRM users: 2^15 (32 MiB, about 100 ms). */
export const CRM_SCRYPT_LOG2_N = 15;
/**
 * Where `setCrmPasswordCost` keeps the process's cost: on `globalThis`, as a process may hold this
 * module twice (imported as CommonJS by the tests, as an ES module by the host's own start).
 */
const PROCESS_COST = Symbol.for('reference-host.users.scrypt-log2n');

function processCost(): number {
  return (globalThis as { [PROCESS_COST]?: number })[PROCESS_COST] ?? CRM_SCRYPT_LOG2_N;
}

const R = 8;
const P = 1;
const KEY_LENGTH = 32;
/** The longest password accepted: long enough for any passphrase, short enough to bound the work. */
export const MAX_PASSWORD_LENGTH = 1024;

function derive(password: string, salt: Buffer, options: ScryptOptions, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, keyLength, { ...options, maxmem: 256 * (options.N ?? 1) * (options.r ?? 8) }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/**
 * Sets the cost of the hashes this process makes from now on (log2 of N, 10 to 20); hashes already
 * stored keep theirs, and are checked at it. For test runs, which hash thousands of passwords (see
 * test/support/hash-cost.ts); a CRM keeps `CRM_SCRYPT_LOG2_N`.
 */
export function setCrmPasswordCost(cost: number): void {
  if (!Number.isInteger(cost) || cost < 10 || cost > 20) throw new RangeError(`A scrypt cost (log2 N) from 10 to 20, not ${cost}`);
  (globalThis as { [PROCESS_COST]?: number })[PROCESS_COST] = cost;
}

export async function hashPassword(password: string): Promise<string> {
  if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) throw new Error('A password must have 1 to 1024 characters');
  const salt = randomBytes(16);
  const cost = processCost();
  const key = await derive(password, salt, { N: 2 ** cost, r: R, p: P }, KEY_LENGTH);
  return ['scrypt', cost, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Hashes of nothing anyone knows, one a cost: checked for unknown user names so that they take as long as wrong passwords. */
const dummyHashes = new Map<number, Promise<string>>();

/**
 * Whether `password` matches `stored`. A missing or unusable hash (`null`, `!`) still costs one
 * scrypt run and answers false, so the time taken does not tell whether the user exists.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parts = stored?.split('$') ?? [];
  if (parts.length !== 6 || parts[0] !== 'scrypt' || password.length > MAX_PASSWORD_LENGTH) {
    const cost = processCost();
    let dummyHash = dummyHashes.get(cost);
    if (!dummyHash) dummyHashes.set(cost, (dummyHash = hashPassword(randomBytes(16).toString('hex'))));
    await verifyPassword('not the password', await dummyHash);
    return false;
  }
  const [, log2n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(password, Buffer.from(salt, 'base64url'), { N: 2 ** Number(log2n), r: Number(r), p: Number(p) }, expected.length);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A random password for a first start without one configured: 20 characters from 120 random bits. */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}
