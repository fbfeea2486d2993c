import { expect } from 'chai';
import { BackgroundWork } from '../../plugin/lifecycle/background-work.js';

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
