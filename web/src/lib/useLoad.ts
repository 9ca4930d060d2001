import { useEffect, useState } from 'preact/hooks';

/**
 * Loads `f()` when `deps` change; `reload` fetches again. What was loaded for other deps is never
 * shown (it would be another page's data), while a reload keeps showing the current data until the
 * fresh one arrives.
 */
export function useLoad<T>(
  f: () => Promise<T>,
  deps: unknown[],
): { data: T | null; error: Error | null; reload: () => void } {
  const key = JSON.stringify(deps);
  const [state, setState] = useState<{ key: string; data: T | null; error: Error | null }>({
    key: '',
    data: null,
    error: null,
  });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    f().then(
      (data) => live && setState({ key, data, error: null }),
      (error: Error) => live && setState({ key, data: null, error }),
    );
    return () => {
      live = false;
    };
  }, [key, n]);
  const current = state.key === key;
  return {
    data: current ? state.data : null,
    error: current ? state.error : null,
    reload: () => setN((x) => x + 1),
  };
}
