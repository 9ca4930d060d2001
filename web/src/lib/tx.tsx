import type { ComponentChildren } from 'preact';
import { tParts, type Lang } from '../i18n';

/**
 * t() with every value isolated in <bdi>: a tenant or site name holding bidirectional controls
 * (refused by the API now, but a record stored before may hold them) reorders nothing outside its
 * own <bdi>. Names shown on their own are wrapped in <bdi> where they appear.
 */
export function tx(
  key: Parameters<typeof tParts>[0],
  vars: Record<string, string | number>,
  l?: Lang,
): ComponentChildren {
  return tParts(key, vars, l).map((part, i) => (i % 2 === 0 ? part : <bdi>{part}</bdi>));
}
