import type { Logger } from 'pino';
import type { UpstreamConfig } from '../config';
import { upstreamUrl, type GatedFamily, type UpstreamOutcome } from '../domain/gate';
import { BoundedMap } from '../lib/bounded';
import type { Metrics } from '../lib/metrics';
import type { Answer } from './answer';
import type { SettingItem } from '../domain/settings';
import type { FileSettings } from './files';
import { FORMATS, FormatError } from './merge';
import type { VendorModule } from './vendors';

/** The upstream did not give a file papgate can merge: the phone gets 503, nothing is recorded. */
export class UpstreamDown extends Error {
  constructor(
    readonly outcome: Exclude<UpstreamOutcome, 'ok' | 'cached'>,
    message: string,
  ) {
    super(message);
  }
}

/** An upstream file of a gated family, checked to be of the family's format. */
export interface UpstreamFile {
  readonly family: GatedFamily;
  readonly body: string;
}

/** At most one log line per family and this interval: a down upstream is one line, not one per phone. */
const LOG_INTERVAL_MS = 10_000;

/**
 * Gate mode's side towards the operator's provisioning server (docs/gate-mode.md): fetches a
 * device's file with papgate's own credentials, the phone's User-Agent and the file name the phone
 * asked for, within a timeout and a body limit, and keeps what it fetched for a while. The cache
 * holds upstream bodies only, never a merged file, which carries the phone's credential.
 */
export class Gate {
  private readonly cache: BoundedMap<
    string,
    { readonly userAgent: string; readonly body: string; readonly until: number }
  >;
  private readonly logged = new Map<GatedFamily, number>();

  constructor(
    private readonly config: UpstreamConfig | null,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new BoundedMap(Math.max(1, config?.cacheEntries ?? 1));
  }

  /** Whether full files of `module`'s family are the upstream's with papgate's items over them. */
  covers(module: VendorModule): boolean {
    return this.config?.patterns[module.family as GatedFamily] !== undefined;
  }

  /** `mac`'s file `file` of `module`'s family (which `covers`); throws UpstreamDown. */
  async fetch(
    module: VendorModule,
    mac: string,
    file: string,
    userAgent: string | undefined,
  ): Promise<UpstreamFile> {
    const family = module.family as GatedFamily;
    const config = this.config!;
    const url = upstreamUrl(config.patterns[family]!, mac, file);
    // A firmware upgrade changes the User-Agent, and an upstream may answer by it: a body is kept
    // for the User-Agent it was asked with, one per URL (the latest), so that a phone's credential
    // sent with ever new User-Agents adds no entries.
    const key = url;
    const kept = this.cache.get(key);
    if (kept !== undefined && kept.userAgent === (userAgent ?? '') && kept.until > this.now()) {
      this.metrics.upstreamRequest(family, 'cached', null);
      return { family, body: kept.body };
    }
    const started = performance.now();
    try {
      const body = await this.request(config, url, userAgent);
      try {
        FORMATS[family].check(body);
      } catch (err) {
        if (err instanceof FormatError) throw new UpstreamDown('format', err.message);
        throw err;
      }
      this.metrics.upstreamRequest(family, 'ok', (performance.now() - started) / 1000);
      if (config.cacheEntries > 0 && config.cacheSeconds > 0) {
        // Renewed at the end: the oldest fetched go first.
        this.cache.delete(key);
        this.cache.set(key, {
          userAgent: userAgent ?? '',
          body,
          until: this.now() + config.cacheSeconds * 1000,
        });
      }
      return { family, body };
    } catch (err) {
      const down = err instanceof UpstreamDown ? err : new UpstreamDown('error', (err as Error).message);
      this.metrics.upstreamRequest(family, down.outcome, (performance.now() - started) / 1000);
      const t = this.now();
      if ((this.logged.get(family) ?? -Infinity) + LOG_INTERVAL_MS <= t) {
        this.logged.set(family, t);
        this.log.warn(
          { family, url, outcome: down.outcome, err: down.message },
          'provisioning upstream failed',
        );
      }
      throw down;
    }
  }

  /**
   * `settings` without the items that give way to the upstream's (FileSettings.yielding) where the
   * upstream's file sets them: its own transport and SRTP choice stays, papgate's undo goes.
   */
  yieldTo(upstream: UpstreamFile, settings: FileSettings): FileSettings {
    const groups = settings.yielding ?? [];
    if (groups.length === 0) return settings;
    const read = FORMATS[upstream.family].values(
      upstream.body,
      groups.flat().map((i) => i.name),
    );
    const gone = new Set<SettingItem>();
    const given = new Map<SettingItem, SettingItem>();
    let at = 0;
    for (const group of groups) {
      const values = group.map(() => read[at++] ?? null);
      const set = values.findIndex((v) => v !== null);
      if (set === -1) continue;
      // the upstream's choice for every name of it: the names it writes are its own, the others
      // (another firmware's name of the same choice) take its value
      group.forEach((i, k) =>
        values[k] !== null ? gone.add(i) : given.set(i, { name: i.name, value: values[set]! }),
      );
    }
    if (gone.size === 0) return settings;
    return {
      key: `${settings.key}\0upstream sets ${JSON.stringify([[...gone].map((i) => i.name), [...given.values()]])}`,
      items: settings.items.filter((i) => !gone.has(i)).map((i) => given.get(i) ?? i),
    };
  }

  /** papgate's full file `own` over the upstream's. */
  merge(upstream: UpstreamFile, own: Answer): Answer {
    return { ...own, body: FORMATS[upstream.family].merge(upstream.body, own.body!.toString()) };
  }

  private async request(config: UpstreamConfig, url: string, userAgent: string | undefined): Promise<string> {
    const headers: Record<string, string> = {};
    if (userAgent !== undefined) headers['user-agent'] = userAgent;
    if (config.basic !== null)
      headers.authorization = `Basic ${Buffer.from(`${config.basic.user}:${config.basic.password}`).toString('base64')}`;
    const signal = AbortSignal.timeout(config.timeoutMs);
    try {
      // A redirect is not followed: it could lead anywhere, with papgate's credentials.
      const res = await fetch(url, { headers, redirect: 'manual', signal });
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new UpstreamDown('status', `answered ${res.status}`);
      }
      if (Number(res.headers.get('content-length') ?? 0) > config.maxBytes) {
        await res.body?.cancel();
        throw new UpstreamDown('too_large', `Content-Length over ${config.maxBytes}`);
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      const reader = res.body!.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        size += r.value.byteLength;
        if (size > config.maxBytes) {
          await reader.cancel();
          throw new UpstreamDown('too_large', `body over ${config.maxBytes} bytes`);
        }
        chunks.push(r.value);
      }
      // A byte order mark is no part of the file: left on, it would hide a Yealink's header line.
      return Buffer.concat(chunks)
        .toString('utf8')
        .replace(/^\uFEFF/, '');
    } catch (err) {
      if (err instanceof UpstreamDown) throw err;
      if (signal.aborted) throw new UpstreamDown('timeout', `no answer within ${config.timeoutMs} ms`);
      const e = err as Error & { cause?: Error };
      throw new UpstreamDown('error', e.cause?.message ?? e.message);
    }
  }
}
