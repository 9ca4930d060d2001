import assert from 'node:assert/strict';
import { BoundedMap, MAX_KEPT_TEXT, shortText } from '../src/lib/bounded';

describe("BoundedMap (the hot paths' per-process caches)", () => {
  it('drops the oldest key when a new one would exceed the bound, never on an update', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2).set('a', 3);
    assert.deepEqual(
      [...m],
      [
        ['a', 3],
        ['b', 2],
      ],
    );
    m.set('c', 4);
    assert.deepEqual(
      [...m],
      [
        ['b', 2],
        ['c', 4],
      ],
    );
  });

  it('memo computes once per kept key, null included, and again after eviction', () => {
    const m = new BoundedMap<string, string | null>(1);
    let calls = 0;
    const compute = () => (calls++, null);
    assert.equal(m.memo('x', compute), null);
    assert.equal(m.memo('x', compute), null);
    assert.equal(calls, 1);
    m.memo('y', () => 'y');
    m.memo('x', compute);
    assert.equal(calls, 2);
  });
});

describe('BoundedMap: a cache keyed by what a client sent', () => {
  it('memo keeps only the keys `keep` takes: a long User-Agent or file name is read, never kept', () => {
    const m = new BoundedMap<string, number>(4096, shortText);
    let calls = 0;
    const long = 'Yealink SIP-T54W '.padEnd(MAX_KEPT_TEXT + 1, 'x');
    assert.equal(
      m.memo(long, () => ++calls),
      1,
    );
    assert.equal(
      m.memo(long, () => ++calls),
      2,
      'read again: not kept',
    );
    assert.equal(m.size, 0);
    const short = long.slice(0, MAX_KEPT_TEXT);
    m.memo(short, () => ++calls);
    m.memo(short, () => ++calls);
    assert.equal(calls, 3);
    assert.equal(m.size, 1);
  });
});
