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

  it('drops the oldest eighth in one pass when full, so a full cache stays cheap to add to', () => {
    const m = new BoundedMap<number, number>(16);
    for (let i = 0; i < 16; i++) m.set(i, i);
    m.set(16, 16);
    assert.deepEqual([...m.keys()], [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    for (let i = 17; i < 1000; i++) m.set(i, i);
    assert.ok(m.size <= 16);
    assert.equal(m.get(999), 999);
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
