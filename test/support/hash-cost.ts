/**
 * Password hashing at the least cost the hashers accept, for every test process (`.mocharc.json`
 * loads this file first): scrypt with N = 2^10 (1 MiB) instead of the portal's 2^14 and the CRM's
 * 2^15. The same scrypt and the same code paths, a sixteenth and a thirty-second of the work: a
 * suite's hosts spent up to half their CPU hashing (an admin password at every start, every demo
 * customer, every login), and the whole suite ran past the ten minutes it is allowed on two cores.
 * Hashes keep their cost in the stored string, so a hash made at one cost is checked at it.
 *
 * What a check costs at the real parameters is measured where it matters, on hashers made with them
 * (test/auth/passwords.test.ts: `realHashCosts()` sets them back for a while). Every refusal still
 * costs one hash here, which the tests count (crm-login-lockout, the hasher's listeners) rather
 * than time. Processes the tests start (`npm start`, the benchmark's host) never load this file and
 * hash at the real cost.
 */
import { CRM_SCRYPT_LOG2_N, setCrmPasswordCost } from '../../host/users/password-hash.js';
import { DEFAULT_SCRYPT_PARAMETERS, setScryptParameters } from '../../plugin/auth/password-hasher.js';

/** log2 of scrypt's N in tests: the least the portal's hasher accepts. */
export const TEST_SCRYPT_LOG2_N = 10;

export function testHashCosts(): void {
  setScryptParameters({ ...DEFAULT_SCRYPT_PARAMETERS, ln: TEST_SCRYPT_LOG2_N });
  setCrmPasswordCost(TEST_SCRYPT_LOG2_N);
}

export function realHashCosts(): void {
  setScryptParameters(DEFAULT_SCRYPT_PARAMETERS);
  setCrmPasswordCost(CRM_SCRYPT_LOG2_N);
}

testHashCosts();
