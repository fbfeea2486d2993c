import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { HASH_CONCURRENCY, hashWorkerSettings, hashWorkersAlive } from '../../plugin/auth/hash-workers.js';
import { CRM_SCRYPT_LOG2_N, hashPassword, setCrmPasswordCost, verifyPassword } from '../../host/users/password-hash.js';
import { decodeHash, DEFAULT_SCRYPT_PARAMETERS, ScryptPasswordHasher, setScryptParameters, type PasswordCheckListener } from '../../plugin/auth/password-hasher.js';
import { CommonPasswordPolicy, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, commonPasswordList, readCommonPasswords } from '../../plugin/auth/password-policy.js';
import { addYears, todayIn, toDateOnly, withinSupport } from '../../plugin/auth/support-period.js';
import { realHashCosts, TEST_SCRYPT_LOG2_N, testHashCosts } from '../support/hash-cost.js';

describe('auth: password hashing', function () {
  this.timeout(20_000);
  const counted = { real: 0, dummy: 0 };
  const listener: PasswordCheckListener = { passwordChecked: (kind) => void (counted[kind] += 1) };
  // At the portal's own cost, not the test processes' (test/support/hash-cost.ts): what is measured here is that cost.
  const hasher = new ScryptPasswordHasher([listener], DEFAULT_SCRYPT_PARAMETERS);

  it('stores a self-describing scrypt string with a random salt, and verifies it', async () => {
    const a = await hasher.hash('correct horse battery staple');
    const b = await hasher.hash('correct horse battery staple');
    expect(a).to.match(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.to.equal(b);
    expect(decodeHash(a)?.params).to.deep.equal(DEFAULT_SCRYPT_PARAMETERS);
    expect(await hasher.verify('correct horse battery staple', a)).to.equal(true);
    expect(await hasher.verify('correct horse battery stapl', a)).to.equal(false);
    expect(await hasher.verify('Correct horse battery staple', a)).to.equal(false);
  });

  it('hashes on worker threads at a lower CPU priority than the main thread, at most one per core at a time', async function () {
    if (!existsSync('/proc/thread-self')) this.skip();
    const threads = () => new Map(readdirSync('/proc/self/task').map((tid) => [tid, Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16])]));
    const lowered = (niceOf: Map<string, number>) => [...niceOf].filter(([, nice]) => nice === 10).map(([tid]) => tid);
    // Hash threads that other suites' hosts started in this process are not this storm's.
    const before = new Set(lowered(threads()));
    const hashes = await Promise.all(Array.from({ length: HASH_CONCURRENCY + 2 }, (_, i) => hasher.hash(`storm-${i}`)));
    expect(new Set(hashes).size).to.equal(HASH_CONCURRENCY + 2);
    const niceOf = threads();
    const main = niceOf.get(String(process.pid))!;
    if (main !== 0) this.skip(); // the test run itself was started at another priority
    expect(lowered(niceOf), 'hash worker threads at nice 10').to.have.length.at.least(1);
    expect(lowered(niceOf).filter((tid) => !before.has(tid)), 'hash worker threads started by the storm').to.have.length.at.most(HASH_CONCURRENCY);
    expect(await hasher.verify('storm-1', hashes[1]!)).to.equal(true);
  });

  it('stops hash workers that stay idle, and starts them again for the next hash', async function () {
    const idleMs = hashWorkerSettings.idleMs;
    hashWorkerSettings.idleMs = 150;
    try {
      const first = await hasher.hash('idle-1');
      expect(hashWorkersAlive()).to.be.at.least(1);
      for (let i = 0; i < 100 && hashWorkersAlive() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(hashWorkersAlive(), 'all idle workers stopped').to.equal(0);
      expect(await hasher.verify('idle-1', first)).to.equal(true);
      expect(hashWorkersAlive()).to.equal(1);
    } finally {
      hashWorkerSettings.idleMs = idleMs;
    }
  });

  it('never truncates: passwords that differ only after 72 bytes do not match', async () => {
    const long = 'é'.repeat(40) + 'x'; // 81 bytes in UTF-8
    const hash = await hasher.hash(long);
    expect(await hasher.verify(long, hash)).to.equal(true);
    expect(await hasher.verify('é'.repeat(40) + 'y', hash)).to.equal(false);
  });

  it('normalises Unicode (NFKC): the composed and decomposed forms of a password match', async () => {
    const hash = await hasher.hash('Caf\u00e9-au-lait');
    expect(await hasher.verify('Cafe\u0301-au-lait', hash)).to.equal(true);
  });

  it('lets a process lower or raise the cost of its new hashes within the accepted range; stored hashes keep theirs', async () => {
    const cheap = await new ScryptPasswordHasher([]).hash('made in a test process');
    expect(decodeHash(cheap)?.params).to.deep.equal({ ln: TEST_SCRYPT_LOG2_N, r: 8, p: 1 });
    const crmCheap = await hashPassword('made in a test process');
    expect(crmCheap).to.match(new RegExp(`^scrypt\\$${TEST_SCRYPT_LOG2_N}\\$8\\$1\\$`));
    try {
      realHashCosts();
      expect(decodeHash(await new ScryptPasswordHasher([]).hash('x'))?.params).to.deep.equal(DEFAULT_SCRYPT_PARAMETERS);
      expect(await hashPassword('x')).to.match(new RegExp(`^scrypt\\$${CRM_SCRYPT_LOG2_N}\\$`));
      // Made at the other cost, checked at theirs.
      expect(await new ScryptPasswordHasher([]).verify('made in a test process', cheap)).to.equal(true);
      expect(await verifyPassword('made in a test process', crmCheap)).to.equal(true);
      expect(await verifyPassword('not it', crmCheap)).to.equal(false);
      for (const params of [{ ln: 9, r: 8, p: 1 }, { ln: 21, r: 8, p: 1 }, { ln: 14, r: 0, p: 1 }, { ln: 14.5, r: 8, p: 1 }]) {
        expect(() => setScryptParameters(params), JSON.stringify(params)).to.throw(RangeError);
      }
      for (const cost of [9, 21, 15.5, Number.NaN]) expect(() => setCrmPasswordCost(cost), String(cost)).to.throw(RangeError);
      expect(decodeHash(await new ScryptPasswordHasher([]).hash('x'))?.params, 'unchanged by a refused setting').to.deep.equal(DEFAULT_SCRYPT_PARAMETERS);
    } finally {
      testHashCosts();
    }
  });

  it('verifies hashes made with other parameters, and refuses malformed or abusive ones without throwing', async () => {
    const weak = new ScryptPasswordHasher([], { ln: 10, r: 8, p: 1 });
    expect(await hasher.verify('pw-of-old', await weak.hash('pw-of-old'))).to.equal(true);
    for (const bad of ['', 'plain', '$scrypt$ln=14,r=8,p=1$c2FsdA$', '$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5', '$2b$10$abcdefghijklmnopqrstuv']) {
      expect(await hasher.verify('anything', bad), bad).to.equal(false);
    }
  });

  it('the dummy check costs about what a real one does and tells its listeners apart', async () => {
    const hash = await hasher.hash('timing-test-pw');
    await hasher.verifyDummy('warm-up');
    counted.real = 0;
    counted.dummy = 0;
    const time = async (run: () => Promise<boolean>) => {
      const started = process.hrtime.bigint();
      await run();
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const real: number[] = [];
    const dummy: number[] = [];
    // CPU time of the process (the hash runs on a worker thread of it): what a check costs, whatever
    // else the machine does. Its wall time reached 276 ms beside two database suites and the whole suite.
    let realCpuMs = 0;
    for (let i = 0; i < 5; i++) {
      const cpu = process.cpuUsage();
      real.push(await time(() => hasher.verify('wrong-pw', hash)));
      const used = process.cpuUsage(cpu);
      realCpuMs += (used.user + used.system) / 1000;
      dummy.push(await time(() => hasher.verifyDummy('wrong-pw')));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    // The oracle this guards against is a dummy check that skips the hash: a difference of the
    // whole hash (the real check takes 10 ms or more, the skipped one next to nothing). So the
    // medians lie within 10 ms, or — on a machine loaded enough to make every check slower and
    // noisier (seen: 43 against 18 ms beside the browser suites, five of each) — the quicker takes
    // at least a quarter as long as the slower, which a check without the hash (microseconds) cannot.
    const [quicker, slower] = [Math.min(median(real), median(dummy)), Math.max(median(real), median(dummy))];
    expect(slower - quicker < 10 || quicker >= slower / 4, JSON.stringify({ real, dummy })).to.equal(true);
    expect(realCpuMs / 5, JSON.stringify({ real, realCpuMs })).to.be.within(10, 200);
    expect(counted).to.deep.equal({ real: 5, dummy: 5 });
  });
});

describe('auth: password policy', () => {
  const policy = new CommonPasswordPolicy();

  /** `length` characters of a phrase that repeats no short pattern. */
  const phrase = (length: number) => 'the quick brown fox jumps over a lazy dog; '.repeat(Math.ceil(length / 43)).slice(0, length);

  it(`accepts ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters with no composition rules`, () => {
    expect(policy.check('abcdefgz')).to.deep.equal({ ok: true });
    expect(policy.check('all lower case words here')).to.deep.equal({ ok: true });
    expect(policy.check(phrase(64))).to.deep.equal({ ok: true });
    expect(policy.check(phrase(PASSWORD_MAX_LENGTH))).to.deep.equal({ ok: true });
  });

  it('refuses short and overlong passwords, counting characters rather than bytes', () => {
    expect(policy.check('seven77')).to.include({ ok: false, problem: 'tooShort', messageKey: 'auth.password.tooShort' });
    expect(policy.check('😀😁😂🤣😃😄😅')).to.include({ problem: 'tooShort' }); // 7 characters, 28 bytes
    expect(policy.check('😀😁😂🤣😃😄😅😆')).to.deep.equal({ ok: true });
    expect(policy.check(phrase(PASSWORD_MAX_LENGTH + 1))).to.include({ ok: false, problem: 'tooLong', messageKey: 'auth.password.tooLong' });
  });

  it('refuses common passwords whatever their case, and the account email inside the password', () => {
    // A real breach list (zxcvbn-ts, ~49,000) with our own few; loaded once.
    expect(commonPasswordList().size).to.be.above(40_000);
    expect(commonPasswordList()).to.equal(commonPasswordList());
    for (const own of readCommonPasswords()) expect(commonPasswordList().has(own), own).to.equal(true);
    for (const common of ['password1', 'PASSWORD123', 'Qwertyuiop', '12345678', 'iloveyou', 'sunshine', 'trustno1', 'Juventus1']) {
      expect(policy.check(common), common).to.include({ ok: false, problem: 'common', messageKey: 'auth.password.common' });
    }
    expect(policy.check('jane.doe@example.com!', { email: 'Jane.Doe@example.com' })).to.include({ problem: 'containsEmail' });
    expect(policy.check('jane.doe@example.com!', { email: 'mario@example.com' })).to.deep.equal({ ok: true });
  });

  it('refuses a common word dressed up as guessers do: digits and symbols around it, look-alike letters', () => {
    for (const variant of ['Password123!', 'Password1!', 'Qwerty123!', 'Welcome123!', '!Welcome2025', '2024dragon!', 'P@ssw0rd!', 'L3tm31n2024', 'Sunshine_99', 'monkey12345678', 'Football!!!!!!!!']) {
      expect(policy.check(variant), variant).to.include({ ok: false, problem: 'common' });
    }
  });

  it('refuses one character repeated, a short pattern repeated and a plain sequence, also under decoration', () => {
    for (const trivial of ['aaaaaaaa', 'ZZZZZZZZZZZZ', '!!!!!!!!', 'abababab', 'abcabcabc', '1234qwer', 'abcdefgh', 'ABCDEFGHIJ', '98765432', 'zyxwvuts', 'aaaaaaaa1!', 'abcdefgh2024']) {
      expect(policy.check(trivial), trivial).to.include({ ok: false, problem: 'common' });
    }
  });

  it('judges a password with lone surrogates as the hasher keeps it: each is U+FFFD, so eight different ones are one character repeated', async () => {
    // JSON's escapes can send them (a form's bytes cannot): the hash takes each as U+FFFD, and so any other lone one signs in.
    const lone = Array.from({ length: 8 }, (_, i) => String.fromCharCode(0xd800 + i * 0x80)).join('');
    expect(policy.check(lone)).to.include({ ok: false, problem: 'common' });
    expect(policy.check(`\ud800${phrase(20)}`)).to.deep.equal({ ok: true });
    // What the policy reads is what the hash holds: another lone one matches it.
    const hasher = new ScryptPasswordHasher([]);
    expect(await hasher.verify('\udfff'.repeat(8), await hasher.hash(lone))).to.equal(true);
  });

  it('accepts strong passwords and passphrases, even ones holding common words, without composition rules', () => {
    for (const strong of [
      'correct horse battery staple',
      'Battery staple orbit 42',
      'my dog loves the password manager',
      'welcome to the jungle 1987',
      'sunshine is overrated, said nobody',
      'Correct-horse-7',
      'kP9$mZ2!qL7#',
      'Tr0ub4dor&3xyzzy',
      'hello83749271034958',
      'vtmqzkpwrl',
      '83920174',
    ]) {
      expect(policy.check(strong), strong).to.deep.equal({ ok: true });
    }
  });
});

describe('auth: support period', () => {
  it('takes today in the CRM\'s time zone, not the server\'s', () => {
    const lateEvening = new Date('2026-03-31T22:30:00Z'); // already 1 April in Rome (UTC+2)
    expect(todayIn('Europe/Rome', lateEvening)).to.equal('2026-04-01');
    expect(todayIn('UTC', lateEvening)).to.equal('2026-03-31');
    expect(todayIn('America/New_York', lateEvening)).to.equal('2026-03-31');
    expect(withinSupport(todayIn('Europe/Rome', lateEvening), '2025-04-01', '2026-03-31')).to.equal(false);
    expect(withinSupport(todayIn('UTC', lateEvening), '2025-04-01', '2026-03-31')).to.equal(true);
  });

  it('turns the day at midnight in the CRM\'s zone, call after call (the day is kept per minute)', () => {
    // Kathmandu is UTC+5:45: midnight there is 18:15 UTC.
    const calls: [string, string][] = [
      ['2026-06-30T18:14:00.000Z', '2026-06-30'],
      ['2026-06-30T18:14:59.999Z', '2026-06-30'],
      ['2026-06-30T18:15:00.000Z', '2026-07-01'],
      ['2026-06-30T18:14:30.000Z', '2026-06-30'],
      ['2026-06-30T21:59:59.999Z', '2026-07-01'],
    ];
    for (const [at, day] of calls) expect(todayIn('Asia/Kathmandu', new Date(at)), at).to.equal(day);
    expect(todayIn('Europe/Rome', new Date('2026-06-30T21:59:59.999Z'))).to.equal('2026-06-30');
    expect(todayIn('Europe/Rome', new Date('2026-06-30T22:00:00.000Z'))).to.equal('2026-07-01');
  });

  it('includes both ends, leaves missing ends open and adds years to dates', () => {
    expect(withinSupport('2026-01-01', '2026-01-01', '2026-01-01')).to.equal(true);
    expect(withinSupport('2026-01-02', '2026-01-01', '2026-01-01')).to.equal(false);
    expect(withinSupport('1999-01-01', null, null)).to.equal(true);
    expect(addYears('2026-05-17', 1)).to.equal('2027-05-17');
    expect(addYears('2028-02-29', 1)).to.equal('2029-03-01');
    expect(toDateOnly(new Date('2026-05-17T00:00:00Z'))).to.equal('2026-05-17');
    expect(toDateOnly('2026-05-17')).to.equal('2026-05-17');
    expect(toDateOnly(null)).to.equal(null);
  });
});
