/** A tenant's events, newest first: the audit trail or the phone traffic, all or one device's. */
import type { FastifyInstance } from 'fastify';
import { InputError } from '../../domain/errors';
import { parseMac, type Mac } from '../../domain/mac';
import type { AuditEvent, EventStream } from '../../store/audit';
import type { Api } from '../api';

/** The `?stream=` of the events route: the audit trail (default) or the phone traffic. */
function streamParam(v: string | undefined): EventStream {
  if (v === undefined || v === 'audit' || v === 'traffic') return v ?? 'audit';
  throw new InputError('stream must be "audit" or "traffic"', 'stream');
}

const MAX_U64 = 2n ** 64n - 1n;

/** An audit event id Redis accepts as the exclusive end of a reverse range. */
function isEventIdAfterZero(v: string): boolean {
  const m = /^([0-9]{1,20})-([0-9]{1,20})$/.exec(v);
  if (!m) return false;
  const [ms, seq] = [BigInt(m[1]!), BigInt(m[2]!)];
  return ms <= MAX_U64 && seq <= MAX_U64 && ms + seq > 0n;
}

export function eventRoutes(api: FastifyInstance, { store, tenantReads, tenantOf }: Api): void {
  api.get('/tenants/:tenant/events', async (req) => {
    const tenant = await tenantOf(req);
    const q = req.query as { count?: string; before?: string; mac?: string; stream?: string };
    const stream = streamParam(q.stream);
    const count = q.count === undefined ? 100 : Number(q.count);
    if (!Number.isInteger(count) || count < 1 || count > 1000)
      throw new InputError('count must be 1..1000', 'count');
    if (q.before !== undefined && !isEventIdAfterZero(q.before))
      throw new InputError('before must be an event id (<ms>-<seq>, each below 2^64, not 0-0)', 'before');
    if (q.mac === undefined) return { events: await store.events(tenant, count, q.before, stream) };
    const mac = parseMac(q.mac);
    return {
      events: await tenantReads.run(tenant, () => eventsOfDevice(tenant, mac, count, q.before, stream)),
    };
  });

  /** One device's events, newest first: the stream read backwards in chunks, at most all of it once. */
  async function eventsOfDevice(
    tenant: string,
    mac: Mac,
    count: number,
    before: string | undefined,
    stream: EventStream,
  ) {
    const found: AuditEvent[] = [];
    let end = before;
    for (let read = 0; found.length < count && read < store.maxEvents(stream);) {
      const chunk = await store.events(tenant, 1000, end, stream);
      found.push(...chunk.filter((e) => e.mac === mac).slice(0, count - found.length));
      if (chunk.length < 1000) break;
      read += chunk.length;
      end = chunk[chunk.length - 1]!.id;
    }
    return found;
  }
}
