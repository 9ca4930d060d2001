/** A tenant's devices as CSV: the export (filtered by state) and the import (all rows or none). */
import type { FastifyInstance } from 'fastify';
import { settle } from '../../domain/auth';
import type { Additions } from '../additions';
import { actor, HttpError, stateFilter, type Api } from '../api';
import { csvToDevices, devicesToCsv } from '../csv';

const CSV_MAX_ROWS = 10000;
/**
 * Bad rows an answer lists; the rest are counted (`badRows`). A file of 10,000 bad rows made an
 * answer of megabytes; 100 rows are enough to see what is wrong with a file.
 */
const MAX_LISTED_ROWS = 100;

/** An import's bad rows: the first MAX_LISTED_ROWS of them and their number. */
function badRows(rows: readonly unknown[]): HttpError['extra'] & { message: string } {
  const listed = rows.length > MAX_LISTED_ROWS ? `, the first ${MAX_LISTED_ROWS} listed` : '';
  return {
    message: `${rows.length} bad row(s)${listed}; nothing was imported`,
    rows: rows.slice(0, MAX_LISTED_ROWS),
    badRows: rows.length,
  };
}

export function csvRoutes(
  api: FastifyInstance,
  { store, now, tenantReads, tenantOf }: Api,
  { adding, tenantAdditions, add, refusal }: Additions,
): void {
  api.get('/tenants/:tenant/devices.csv', async (req, reply) => {
    const tenant = await tenantOf(req);
    const state = stateFilter((req.query as { state?: string }).state);
    const csv = await tenantReads.run(tenant, async () => {
      const t = now();
      const devices = (await store.listDevices(tenant)).filter(
        (d) => state === undefined || settle(d, t).state === state,
      );
      await store.appendEvent(tenant, 'csv_exported', { actor: actor(req), rows: String(devices.length) });
      return devicesToCsv(devices, t);
    });
    return reply
      .header('Content-Type', 'text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${tenant}-devices.csv"`)
      .header('Cache-Control', 'no-store')
      .send(csv);
  });

  api.post('/tenants/:tenant/devices.csv', async (req, reply) => {
    const tenant = await tenantOf(req);
    if (typeof req.body !== 'string')
      throw new HttpError(415, 'unsupported_media_type', 'send the CSV as Content-Type: text/csv');
    const csv = req.body;
    const { parsed, res } = await tenantAdditions.run(tenant, () =>
      adding.run(async () => {
        const parsed = await csvToDevices(csv, CSV_MAX_ROWS);
        if (!parsed.ok) {
          const { message, ...rows } = badRows(parsed.errors);
          throw new HttpError(400, 'invalid_csv', message, rows);
        }
        return { parsed, res: await add(req, tenant, parsed.devices) };
      }),
    );
    if (!res.ok) {
      const { message, ...rows } = badRows(
        res.errors.map((e) => ({ line: parsed.lines[e.index]!, mac: e.mac, reason: refusal(req, e) })),
      );
      throw new HttpError(409, 'invalid_csv', message, rows);
    }
    return reply.code(201).send({
      created: res.devices.length,
      devices: res.devices.map((d) => ({ mac: d.mac, pap: d.pap, state: 'needed' })),
    });
  });
}
