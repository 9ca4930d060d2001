/** A tenant's devices as CSV: the export (filtered by state) and the import (adds all rows or none; updates on request). */
import type { FastifyInstance } from 'fastify';
import { settle } from '../../domain/auth';
import type { Additions } from '../additions';
import { actor, HttpError, stateFilter, type Api } from '../api';
import { applyDeviceEdit } from '../../domain/device-edit';
import type { NewDevice } from '../../domain/device';
import { InputError } from '../../domain/errors';
import { timeSlices } from '../../lib/pacing';
import { ALREADY_REGISTERED } from '../../store/devices';
import {
  csvToRows,
  devicesToCsv,
  rowAsEdit,
  rowAsNew,
  rowError,
  type CsvRow,
  type CsvRowError,
} from '../csv';
import { editDevice } from './device-edit';

const CSV_MAX_ROWS = 10000;
/**
 * Bad rows an answer lists; the rest are counted (`badRows`). A file of 10,000 bad rows made an
 * answer of megabytes; 100 rows are enough to see what is wrong with a file.
 */
const MAX_LISTED_ROWS = 100;
/** A row's MAC the tenant has, in an import that does not update: and how to update instead. */
const ALREADY =
  `${ALREADY_REGISTERED}; to update the devices of such rows, import with ` +
  "?mode=update (CLI: import --update; console: the import's update box)";

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
  { config, store, now, tenantReads, tenantOf }: Api,
  { adding, tenantAdditions, add, macOwners, refusal, siteErrors }: Additions,
): void {
  api.get('/tenants/:tenant/devices.csv', async (req, reply) => {
    const tenant = await tenantOf(req);
    const q = req.query as { state?: string; passwords?: string };
    const state = stateFilter(q.state);
    // Account passwords only when asked for by name, and the audit says they were.
    if (q.passwords !== undefined && q.passwords !== 'true' && q.passwords !== 'false')
      throw new InputError('passwords must be "true" or "false"', 'passwords');
    const passwords = q.passwords === 'true';
    const csv = await tenantReads.run(tenant, async () => {
      const t = now();
      const devices = (await store.listDevices(tenant)).filter(
        (d) => state === undefined || settle(d, t).state === state,
      );
      await store.appendEvent(tenant, 'csv_exported', {
        actor: actor(req),
        rows: String(devices.length),
        ...(passwords ? { passwords: 'true' } : {}),
      });
      return devicesToCsv(devices, t, { passwords });
    });
    return reply
      .header('Content-Type', 'text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${tenant}-devices.csv"`)
      .header('Cache-Control', 'no-store')
      .send(csv);
  });

  /**
   * The import. Every error of the file in one answer: the rows' cells and the MACs they name
   * (taken here, in another tenant) are all checked before anything is written. `?mode=update`:
   * a row whose MAC the tenant has updates that device (rowAsEdit, as PATCH does: PAP and
   * authentication stay) instead of being refused.
   */
  api.post('/tenants/:tenant/devices.csv', async (req, reply) => {
    const tenant = await tenantOf(req);
    const mode = (req.query as { mode?: string }).mode ?? 'add';
    if (mode !== 'add' && mode !== 'update') throw new InputError('mode must be "add" or "update"', 'mode');
    if (typeof req.body !== 'string')
      throw new HttpError(415, 'unsupported_media_type', 'send the CSV as Content-Type: text/csv');
    const csv = req.body;
    const { lines, res, updates } = await tenantAdditions.run(tenant, () =>
      adding.run(async () => {
        const { rows, errors } = await csvToRows(csv, CSV_MAX_ROWS);
        const slice = timeSlices();
        // Each row as an addition first; by row index, so that a row has one error at most.
        const news = new Map<number, NewDevice>();
        const rowErrors = new Map<number, CsvRowError>();
        for (const [i, r] of rows.entries()) {
          await slice();
          try {
            news.set(i, rowAsNew(r, config.extraModels));
          } catch (e) {
            rowErrors.set(i, rowError(r.line, r.mac, e));
          }
        }
        // The MACs are looked up when the answer may need them: beside other errors, or to find the
        // rows that update. Else the addition finds them itself (looking up 10,000 MACs twice made
        // imports slow enough that a tenant's next one waited past TENANT_ADDITION_WAIT_MS).
        let conflicts = 0;
        const conflict = (i: number, reason: string) => {
          news.delete(i);
          conflicts++;
          rowErrors.set(i, { line: rows[i]!.line, mac: rows[i]!.mac, column: 'mac', reason });
        };
        const updates: CsvRow[] = [];
        /** Rows that move a device to another site. */
        const moved = new Map<number, NewDevice>();
        if (mode === 'update' || errors.length + rowErrors.size > 0) {
          const owners = await macOwners(
            req,
            tenant,
            rows.map((r) => r.mac),
          );
          for (const [i, r] of rows.entries()) {
            await slice();
            const owner = owners[i]!;
            if (owner === null) continue;
            if (owner !== tenant) {
              conflict(i, refusal(req, { index: i, mac: r.mac, reason: '', owner }));
              continue;
            }
            // A claim of this tenant's without a device is an interrupted addition's: createDevices takes it.
            const current = await store.getDevice(tenant, r.mac);
            if (current === null) continue;
            if (mode === 'add') {
              conflict(i, ALREADY);
              continue;
            }
            news.delete(i);
            rowErrors.delete(i);
            try {
              const { device } = applyDeviceEdit(current, rowAsEdit(r, current), config.extraModels);
              updates.push(r);
              if (device.site !== current.site) moved.set(i, device);
            } catch (e) {
              rowErrors.set(i, rowError(r.line, r.mac, e));
            }
          }
        }
        // Sites without a record, in the same answer as every other error (docs/admin.md#sites).
        const placed = [...news, ...moved];
        for (const e of await siteErrors(
          req,
          tenant,
          placed.map(([, d]) => d),
        )) {
          const i = placed[e.index]![0];
          news.delete(i);
          conflicts++;
          rowErrors.set(i, {
            line: rows[i]!.line,
            mac: rows[i]!.mac,
            column: 'site',
            unknownSite: e.unknownSite!,
            reason: e.reason,
          });
        }
        errors.push(...rowErrors.values());
        if (errors.length) {
          const { message, ...listed } = badRows(errors.sort((a, b) => a.line - b.line));
          throw new HttpError(conflicts === errors.length ? 409 : 400, 'invalid_csv', message, listed);
        }
        const creates = [...news.values()];
        return {
          lines: [...news.keys()].map((i) => rows[i]!.line),
          res: creates.length ? await add(req, tenant, creates) : ({ ok: true, devices: [] } as const),
          updates,
        };
      }),
    );
    if (!res.ok) {
      const { message, ...rows } = badRows(
        res.errors.map((e) => ({
          line: lines[e.index]!,
          mac: e.mac,
          ...('unknownSite' in e && e.unknownSite !== undefined
            ? { column: 'site', unknownSite: e.unknownSite }
            : { column: 'mac' }),
          reason: e.reason === ALREADY_REGISTERED ? ALREADY : refusal(req, e),
        })),
      );
      throw new HttpError(409, 'invalid_csv', message, rows);
    }
    // After the additions, which are all or nothing; each update is a device's edit of its own.
    // A row that changes nothing (an export imported back) is counted apart: `updated` says what
    // the import changed.
    let updated = 0;
    let unchanged = 0;
    for (const r of updates) {
      const d = await editDevice(
        store,
        tenant,
        r.mac,
        (current) => rowAsEdit(r, current),
        actor(req),
        config.extraModels,
      );
      if (d === 'unchanged') unchanged++;
      else if (d !== null) updated++;
    }
    return reply.code(201).send({
      created: res.devices.length,
      updated,
      unchanged,
      devices: res.devices.map((d) => ({ mac: d.mac, pap: d.pap, state: 'needed' })),
    });
  });
}
