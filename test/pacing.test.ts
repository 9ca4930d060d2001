import assert from 'node:assert/strict';
import { BusyError, Shares } from '../src/lib/pacing';

/** A piece of work that runs until `finish` is called, noting when it started. */
function work(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return {
    finish: () => finish(),
    run: async () => {
      log.push(`start ${name}`);
      await done;
      return name;
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Shares (heavy reads of one tenant at once)', () => {
  it('runs at most perKey pieces of a key at once, the rest in the order they came; other keys are not held up', async () => {
    const shares = new Shares(2, 10_000, 'pieces');
    const log: string[] = [];
    const [a, b, c, d, other] = ['a', 'b', 'c', 'd', 'other'].map((n) => work(log, n));
    const answers = [a, b, c, d].map((w) => shares.run('big', w!.run));
    const elsewhere = shares.run('small', other!.run);
    await tick();
    assert.deepEqual(log, ['start a', 'start b', 'start other']);
    b!.finish();
    await tick();
    assert.deepEqual(log.slice(3), ['start c']);
    a!.finish();
    await tick();
    assert.deepEqual(log.slice(4), ['start d']);
    for (const w of [c, d, other]) w!.finish();
    assert.deepEqual(await Promise.all([...answers, elsewhere]), ['a', 'b', 'c', 'd', 'other']);
  });

  it('refuses a piece that waited waitMs with BusyError, and keeps the count right', async () => {
    const shares = new Shares(1, 30, 'pieces');
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((n) => work(log, n));
    const first = shares.run('big', a!.run);
    const refused = shares.run('big', b!.run);
    await assert.rejects(refused, (err: unknown) => err instanceof BusyError && err.retryAfterSeconds === 1);
    assert.deepEqual(log, ['start a']);
    a!.finish();
    assert.equal(await first, 'a');
    // the refused piece took no share: the next one runs at once
    const next = shares.run('big', c!.run);
    await tick();
    assert.deepEqual(log, ['start a', 'start c']);
    c!.finish();
    assert.equal(await next, 'c');
  });

  it('gives the share of a failing piece to the next one', async () => {
    const shares = new Shares(1, 10_000, 'pieces');
    const failing = shares.run('big', () => Promise.reject(new Error('store away')));
    const next = shares.run('big', async () => 'ran');
    await assert.rejects(failing, /store away/);
    assert.equal(await next, 'ran');
  });
});
