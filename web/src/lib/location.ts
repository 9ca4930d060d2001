import { signal } from '../signal';

/** The route is the URL's hash (`#/t/<tenant>/devices?state=needed`), so the server serves one page. */
interface Route {
  readonly parts: string[];
  readonly query: URLSearchParams;
}

function currentRoute(): Route {
  const [path = '', query = ''] = location.hash.replace(/^#/, '').split('?');
  return {
    parts: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(query),
  };
}

export const route = signal<Route>(currentRoute());
window.addEventListener('hashchange', () => route.set(currentRoute()));

export function href(path: string, query: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

export const go = (h: string) => (location.hash = h);
