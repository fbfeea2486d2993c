/**
 * Password hashing with scrypt (`node:crypto`, on low-priority worker threads, see
 * `hash-workers.ts`: it neither blocks nor starves the event loop). Passwords are never truncated
 * (unlike bcrypt's 72 bytes); they are normalised to Unicode NFKC so that the same password typed
 * on two keyboards matches.
 *
 * Stored as a self-describing PHC-style string, so parameters can be raised later without
 * breaking old hashes:  `$scrypt$ln=14,r=8,p=1$<salt, base64>$<key, base64>`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { injectable, multiInject, optional } from 'inversify';
import { scryptOnHashWorker } from './hash-workers.js';

export interface ScryptParameters {
  /** log2 of the CPU/memory cost N. */
  readonly ln: number;
  /** Block size. */
  readonly r: number;
  /** Parallelisation. */
  readonly p: number;
}

/**
 * scrypt's "interactive" preset (N = 2^14, r = 8, p = 1: 16 MiB): one hash takes about 40 ms on
 * the reference machine, inside the 30–60 ms budget of a login.
 */
export const DEFAULT_SCRYPT_PARAMETERS: ScryptParameters = { ln: 14, r: 8, p: 1 };

/**
 * Where `setScryptParameters` keeps the process's parameters: on `globalThis`, as a process may
 * hold this module twice (the tests import it as CommonJS, the host loads the plugin as ES modules).
 */
const PROCESS_PARAMETERS = Symbol.for('business-portal.auth.scrypt-parameters');

function processParameters(): ScryptParameters {
  return (globalThis as { [PROCESS_PARAMETERS]?: ScryptParameters })[PROCESS_PARAMETERS] ?? DEFAULT_SCRYPT_PARAMETERS;
}

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds for parameters read back from storage: a corrupt row must not make a request hash for minutes. */
const LIMITS = { ln: [10, 20], r: [1, 32], p: [1, 16], salt: [8, 64], key: [16, 64] } as const;

/** Told about every password check, e.g. to count them in tests or metrics. */
export const PasswordCheckListener = Symbol.for('business-portal.auth.PasswordCheckListener');
export interface PasswordCheckListener {
  /** `real`: against an account's hash; `dummy`: the stand-in run where there is no hash to check. */
  passwordChecked(kind: 'real' | 'dummy'): void;
}

export const PasswordHasher = Symbol.for('business-portal.auth.PasswordHasher');
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Whether `password` matches `encoded` (false, never an error, for a malformed hash). */
  verify(password: string, encoded: string): Promise<boolean>;
  /**
   * Spends the time of a real `verify` and answers false: for the paths with no hash to check
   * (unknown email, locked…) so that their timing does not tell them apart.
   */
  verifyDummy(password: string): Promise<false>;
}

interface DecodedHash {
  readonly params: ScryptParameters;
  readonly salt: Buffer;
  readonly key: Buffer;
}

function inRange(value: number, [min, max]: readonly [number, number]): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Sets the parameters of the hashers this process makes from now on without parameters of their
 * own (the plugin's, at each start); hashes already stored keep theirs, and are checked at them.
 * For test runs, which hash thousands of passwords (see test/support/hash-cost.ts); a portal keeps
 * `DEFAULT_SCRYPT_PARAMETERS`.
 */
export function setScryptParameters(params: ScryptParameters): void {
  if (!inRange(params.ln, LIMITS.ln) || !inRange(params.r, LIMITS.r) || !inRange(params.p, LIMITS.p)) {
    throw new RangeError(`scrypt parameters out of range: ${JSON.stringify(params)}`);
  }
  (globalThis as { [PROCESS_PARAMETERS]?: ScryptParameters })[PROCESS_PARAMETERS] = { ln: params.ln, r: params.r, p: params.p };
}

export function encodeHash(params: ScryptParameters, salt: Buffer, key: Buffer): string {
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

export function decodeHash(encoded: string): DecodedHash | null {
  const match = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(encoded);
  if (!match) return null;
  const params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  const salt = Buffer.from(match[4]!, 'base64');
  const key = Buffer.from(match[5]!, 'base64');
  if (!inRange(params.ln, LIMITS.ln) || !inRange(params.r, LIMITS.r) || !inRange(params.p, LIMITS.p)) return null;
  if (!inRange(salt.length, LIMITS.salt) || !inRange(key.length, LIMITS.key)) return null;
  return { params, salt, key };
}

function derive(password: string, salt: Buffer, length: number, params: ScryptParameters): Promise<Buffer> {
  const N = 2 ** params.ln;
  const options = { N, r: params.r, p: params.p, maxmem: 128 * N * params.r * params.p + 32 * 1024 * 1024 };
  return scryptOnHashWorker({ password: Buffer.from(password.normalize('NFKC'), 'utf8'), salt, length, options });
}

@injectable()
export class ScryptPasswordHasher implements PasswordHasher {
  private readonly listeners: readonly PasswordCheckListener[];
  private dummyHash: Promise<DecodedHash> | null = null;
  readonly params: ScryptParameters;

  constructor(
    @multiInject(PasswordCheckListener) @optional() listeners?: PasswordCheckListener[],
    params: ScryptParameters = processParameters(),
  ) {
    this.listeners = listeners ?? [];
    this.params = params;
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    return encodeHash(this.params, salt, await derive(password, salt, KEY_BYTES, this.params));
  }

  async verify(password: string, encoded: string): Promise<boolean> {
    const decoded = decodeHash(encoded);
    if (!decoded) {
      await this.verifyDummy(password);
      return false;
    }
    this.notify('real');
    const key = await derive(password, decoded.salt, decoded.key.length, decoded.params);
    return timingSafeEqual(key, decoded.key);
  }

  async verifyDummy(password: string): Promise<false> {
    this.notify('dummy');
    const dummy = await this.dummy();
    const key = await derive(password, dummy.salt, dummy.key.length, dummy.params);
    // Compare anyway so that the dummy path does the same work as the real one.
    timingSafeEqual(key, dummy.key);
    return false;
  }

  /** A hash of a random password with the current parameters, made once (it never matches anything typed). */
  private dummy(): Promise<DecodedHash> {
    this.dummyHash ??= this.hash(randomBytes(24).toString('base64')).then((encoded) => decodeHash(encoded)!);
    return this.dummyHash;
  }

  private notify(kind: 'real' | 'dummy'): void {
    for (const listener of this.listeners) listener.passwordChecked(kind);
  }
}
