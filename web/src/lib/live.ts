import { useEffect, useRef } from 'preact/hooks';
import type { RolloutSummary } from '../api';

/**
 * How often a page asks again while it is shown. A device is one hash (cheap); the summary is one
 * count per tenant every 5 s on the server, however many consoles ask (routes/summary.ts), so the
 * device list asks it, not for the whole list, whether anything changed.
 */
export const DEVICE_POLL_MS = 5000;
export const SUMMARY_POLL_MS = 5000;

/**
 * Calls `f` every `ms` while the tab is visible, and at once when it becomes visible again: a tab
 * in the background asks nothing.
 */
export function usePoll(f: () => void, ms: number, deps: unknown[]): void {
  const latest = useRef(f);
  latest.current = f;
  useEffect(() => {
    const tick = () => document.visibilityState === 'visible' && latest.current();
    const timer = setInterval(tick, ms);
    document.addEventListener('visibilitychange', tick);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
    };
  }, deps);
}

/**
 * Calls `f` when `key` changes after its first value (not on the first load): a page reloads what
 * hangs on a change it saw, and only then.
 */
export function useOnChange(key: string | null, f: () => void): void {
  const seen = useRef<string | null>(null);
  useEffect(() => {
    if (key === null) return;
    if (seen.current !== null && seen.current !== key) f();
    seen.current = key;
  }, [key]);
}

/** What the device list shows changing: the counts, not the time they were taken. */
export function summaryKey(s: RolloutSummary | null): string | null {
  return s === null ? null : JSON.stringify({ ...s, at: null });
}

/** The share of devices authenticated, in whole percent, rounded down: 100 only when all are. */
export function authenticatedPercent(c: { total: number; states: Record<string, number> }): number {
  return c.total === 0 ? 0 : Math.floor((100 * (c.states.successful ?? 0)) / c.total);
}
