import { expect } from 'chai';
import { ContainerModule } from 'inversify';
import { BackgroundWork, DeactivationDeadline } from '../../plugin/lifecycle/background-work.js';
import { LifecycleContribution } from '../../plugin/lifecycle/contributions.js';
import { corePlugin, startPluginTestHost, type PluginTestHost } from './plugin-test-host.js';

describe('background work of the plugin', () => {
  it('waits at stop for the runs under way, also one started meanwhile', async () => {
    const work = new BackgroundWork();
    const done: string[] = [];
    void work.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      done.push('first');
      void work.run(async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        done.push('second');
      });
    });
    expect(work.busy).to.equal(true);
    expect(await work.stop(5_000)).to.equal(true);
    expect(done).to.deep.equal(['first', 'second']);
    expect(work.busy).to.equal(false);
  });

  it('counts a failed run as settled and hands its failure to the caller', async () => {
    const work = new BackgroundWork();
    const failed = work.run(() => Promise.reject(new Error('boom')));
    const caught = await failed.catch((error: Error) => error.message);
    expect(caught).to.equal('boom');
    expect(await work.stop(1_000)).to.equal(true);
  });

  it('gives up on a run that never ends after the bound', async () => {
    const work = new BackgroundWork();
    void work.run(() => new Promise<void>(() => undefined));
    const began = Date.now();
    expect(await work.stop(100)).to.equal(false);
    const took = Date.now() - began;
    expect(took).to.be.at.least(90);
    expect(took).to.be.below(1_000);
    expect(work.busy).to.equal(true);
  });
});

/**
 * One deactivation, one bound: the contributions' `onDeactivate` run one after the other, and each
 * waits for its own background work, but all of them only until the deadline the deactivation
 * fixed when it began (`DeactivationDeadline`), so several stuck runs cost a shutdown one bound,
 * not one each.
 */
describe('background work of the plugin at deactivation @db', () => {
  const BOUND_MS = 500;
  const SETTLES_AFTER_MS = 250;
  let t: PluginTestHost;

  beforeEach(async () => {
    t = await startPluginTestHost();
  });
  afterEach(async () => {
    await t.stop();
  });

  /** A contribution that starts one run at activation and, at deactivation, waits for it as the plugin's own do. */
  function contribution(name: string, run: () => Promise<void>, outcomes: Map<string, boolean>) {
    return (deadline: DeactivationDeadline): LifecycleContribution => {
      const work = new BackgroundWork();
      return {
        async onActivate() {
          void work.run(run);
        },
        async onDeactivate() {
          outcomes.set(name, await work.stop(deadline.leftMs()));
        },
      };
    };
  }

  it('waits for every contribution’s stuck run within one bound in all, and still for a run that settles in time', async function () {
    this.timeout(10_000);
    const outcomes = new Map<string, boolean>();
    let settledRun = false;
    const never = () => new Promise<void>(() => undefined);
    // Deactivated in reverse: the run that settles first, then the three that never do.
    const contributions = [
      contribution('stuck lock mail', never, outcomes),
      contribution('stuck ticket notification', never, outcomes),
      contribution('stuck recovery mail', never, outcomes),
      contribution(
        'settles in time',
        async () => {
          await new Promise((resolve) => setTimeout(resolve, SETTLES_AFTER_MS));
          settledRun = true;
        },
        outcomes,
      ),
    ];
    const probe = new ContainerModule(({ bind, rebind }) => {
      rebind<DeactivationDeadline>(DeactivationDeadline).toConstantValue(new DeactivationDeadline(BOUND_MS));
      for (const make of contributions) {
        bind<LifecycleContribution>(LifecycleContribution).toDynamicValue((context) => make(context.get<DeactivationDeadline>(DeactivationDeadline)));
      }
    });
    const plugin = corePlugin({}, [probe]);
    await plugin.install(t.host);
    await plugin.activate(t.host);

    const began = performance.now();
    await plugin.deactivate();
    const took = performance.now() - began;

    expect(settledRun, 'the run that settles within the bound was waited for').to.equal(true);
    expect(Object.fromEntries(outcomes)).to.deep.equal({
      'settles in time': true,
      'stuck recovery mail': false,
      'stuck ticket notification': false,
      'stuck lock mail': false,
    });
    expect(took, 'one bound in all').to.be.at.least(BOUND_MS - 20);
    // One bound each would be SETTLES_AFTER_MS + 3 × BOUND_MS: a bound short of that leaves room for
    // a loaded machine (a garbage collection in a long serial run) without letting one bound each pass.
    expect(took, 'one bound in all, not one per contribution').to.be.below(SETTLES_AFTER_MS + 2 * BOUND_MS);
  });

  it('gives a wait outside a deactivation, and each new deactivation, the whole bound again', async () => {
    const deadline = new DeactivationDeadline(BOUND_MS);
    expect(deadline.leftMs()).to.equal(BOUND_MS);
    deadline.begin();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(deadline.leftMs()).to.be.at.most(BOUND_MS - 90);
    deadline.end();
    expect(deadline.leftMs()).to.equal(BOUND_MS);
    deadline.begin();
    expect(deadline.leftMs()).to.be.within(BOUND_MS - 20, BOUND_MS);
  });
});
