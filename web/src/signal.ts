import { useEffect, useState } from 'preact/hooks';

/** A value components re-render on; enough state management for a console of this size. */
interface Signal<T> {
  readonly value: T;
  set(v: T): void;
  use(): T;
}

export function signal<T>(initial: T): Signal<T> {
  let value = initial;
  const subs = new Set<(v: T) => void>();
  return {
    get value() {
      return value;
    },
    set(v: T) {
      value = v;
      for (const s of subs) s(v);
    },
    use() {
      const [v, setV] = useState(value);
      useEffect(() => {
        subs.add(setV);
        setV(value);
        return () => void subs.delete(setV);
      }, []);
      return v;
    },
  };
}
