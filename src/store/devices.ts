import type { Device, NewDevice } from '../domain/device';
import type { Editable } from '../domain/device-edit';
import type { Mac } from '../domain/mac';
import { generatePap, generateSipPassword } from '../domain/pap';
import { timeSlices } from '../lib/pacing';
import { StorePart, type Actor } from './context';
import { deviceRecord, encodeAccounts, pieces, toDevice } from './device-record';
import { DEVICE, keys } from './keys';
import { scripts } from './scripts';
import { deviceLayerFields } from './settings';

/** Why a device of an addition was refused; `owner`: the other tenant that holds its MAC. */
/** The reason of a MAC the tenant has already (an import's answer adds how to update instead). */
export const ALREADY_REGISTERED = 'MAC already registered in this tenant';

export interface CreateError {
  readonly index: number;
  readonly mac: Mac;
  readonly reason: string;
  readonly owner?: string;
}

type CreateResult =
  | { readonly ok: true; readonly devices: readonly { mac: Mac; pap: string }[] }
  | { readonly ok: false; readonly errors: readonly CreateError[] };

/** MACs claimed (and looked up) at once while adding devices: one pipelined batch each. */
const CLAIM_BATCH = 1000;
/** Device hashes read at once (one pipelined batch) by listDevices. */
const READ_BATCH = 500;
/** Devices created by one script: about 10 ms of Redis's time, during which it serves nothing else. */
const CREATE_BATCH = 500;

/**
 * Device records: added (all or nothing, each MAC claimed in the global index first), read,
 * listed and deleted; and how many other tenants' MACs a tenant's tokens were told of (probes).
 */
export class Devices extends StorePart {
  /**
   * Adds devices, all or nothing. The MAC index is global (another slot), so MACs are claimed
   * first with HSETNX (in pipelined batches) and released again if the tenant-side script refuses.
   * The devices are created by that script in chunks of CREATE_BATCH, so while a large addition is
   * under way some of its devices may already be read; a refused chunk deletes the chunks before it
   * again (audited as deleted by the same actor).
   */
  async createDevices(
    tenant: string,
    devices: readonly NewDevice[],
    actor: Actor,
  ): Promise<CreateResult | 'unknown_tenant'> {
    const errors: CreateError[] = [];
    const seen = new Map<string, number>();
    devices.forEach((d, i) => {
      const first = seen.get(d.mac);
      if (first !== undefined)
        errors.push({ index: i, mac: d.mac, reason: `duplicate of row ${first + 1} in this request` });
      else seen.set(d.mac, i);
    });
    if (errors.length) return { ok: false, errors };
    await this.ready();

    const claimed: Mac[] = [];
    for (let start = 0; start < devices.length; start += CLAIM_BATCH) {
      const batch = devices.slice(start, start + CLAIM_BATCH);
      const won = await Promise.all(batch.map((d) => this.redis.hSetNX(keys.macIndex(d.mac), d.mac, tenant)));
      const taken = batch.flatMap((d, i) =>
        won[i] === 1 ? (claimed.push(d.mac), []) : [{ d, index: start + i }],
      );
      const owners = await Promise.all(taken.map(({ d }) => this.redis.hGet(keys.macIndex(d.mac), d.mac)));
      // A claim by this tenant without a device is the leftover of an interrupted earlier call.
      const leftover = await Promise.all(
        taken.map(({ d }, i) =>
          owners[i] === tenant
            ? this.redis.exists(keys.tenant(tenant).device(d.mac)).then((n) => n === 0)
            : false,
        ),
      );
      taken.forEach(({ d, index }, i) => {
        const owner = owners[i];
        if (leftover[i]) return;
        if (owner === tenant) errors.push({ index, mac: d.mac, reason: ALREADY_REGISTERED });
        // Released between the two commands: another addition or deletion of it is under way.
        else if (owner === undefined || owner === null)
          errors.push({ index, mac: d.mac, reason: 'MAC being added or removed right now; try again' });
        else errors.push({ index, mac: d.mac, reason: 'MAC registered in another tenant', owner });
      });
    }
    const release = () => Promise.all(claimed.map((m) => this.releaseMac(m, tenant)));
    if (errors.length) {
      await release();
      return { ok: false, errors };
    }

    const now = this.now();
    const k = keys.tenant(tenant);
    const issued: { mac: Mac; pap: string }[] = [];
    const rows: string[] = [];
    const slice = timeSlices();
    for (const [i, d] of devices.entries()) {
      await slice();
      issued.push({ mac: d.mac, pap: generatePap() });
      rows.push(
        JSON.stringify({
          mac: d.mac,
          vendor: d.vendor,
          site: d.site,
          hash: deviceRecord({
            ...d,
            createdAt: now,
            pap: issued[i]!.pap,
            generation: 0,
            state: 'needed',
            consecutiveFailures: 0,
            totalFailures: 0,
            failedUntil: null,
            suspendedUntil: null,
            suspensionNetwork: null,
            credentialHash: null,
            digestCredential: null,
            challenged: null,
            needsReset: null,
            userAgentMismatch: null,
            disabledAt: null,
            sipPassword: generateSipPassword(),
            authenticatedAt: null,
            authenticatedVia: null,
            lastProvisioning: null,
          }),
        }),
      );
    }
    // In chunks: one script over 10,000 devices held Redis (and every provisioning request behind
    // it) for 0.1 to 0.4 s. A chunk refused (a race on a MAC) undoes the chunks before it.
    const created: Mac[] = [];
    const undo = async () => {
      for (const mac of created) await this.removeDevice(tenant, mac, now, actor);
      await release();
    };
    for (let start = 0; start < devices.length; start += CREATE_BATCH) {
      const chunk = devices.slice(start, start + CREATE_BATCH);
      let reply: { error?: string; rows?: number[] };
      try {
        reply = JSON.parse(
          (await scripts.create.run(
            this.redis,
            [k.info, k.devices, k.events, ...chunk.map((d) => k.device(d.mac))],
            [now, this.maxlen, actor, ...rows.slice(start, start + CREATE_BATCH)],
          )) as string,
        );
      } catch (err) {
        await undo().catch(() => undefined);
        throw err;
      }
      if (reply.error === 'unknown_tenant') {
        await undo();
        return 'unknown_tenant';
      }
      if (reply.error === 'exists') {
        await undo();
        return {
          ok: false,
          errors: (reply.rows ?? []).map((r) => ({
            index: start + r - 1,
            mac: chunk[r - 1]!.mac,
            reason: ALREADY_REGISTERED,
          })),
        };
      }
      created.push(...chunk.map((d) => d.mac));
    }
    return { ok: true, devices: issued };
  }

  /**
   * When the tenant may be told of other tenants' MACs again (ms), or null: it was told of `limit`
   * in the current window (see probe.lua). Checked before an addition looks at any MAC, so that a
   * refusal says nothing about the MACs of that addition.
   */
  async probeRetryAt(tenant: string, limit: number): Promise<number | null> {
    const key = keys.tenant(tenant).probes;
    const [count, ttl] = await this.redis.multi().get(key).pTTL(key).execTyped();
    return Number(count ?? 0) >= limit ? this.now() + Math.max(ttl, 0) : null;
  }

  /**
   * Counts MACs of other tenants an addition by a tenant token named (probe.lua), and audits it.
   * Answers the window's count, and when the answer must not list them, the window's end (ms).
   */
  async countProbe(
    tenant: string,
    actor: Actor,
    macs: readonly Mac[],
    limit: number,
    windowSeconds: number,
  ): Promise<{ count: number; retryAt: number | null }> {
    const k = keys.tenant(tenant);
    const [count, ends] = (await scripts.probe.run(
      this.redis,
      [k.probes, k.events],
      [this.now(), this.maxlen, limit, windowSeconds * 1000, actor, macs.length, macs.slice(0, 20).join(',')],
    )) as [number, number];
    return { count, retryAt: ends === 0 ? null : ends };
  }

  private async releaseMac(mac: Mac, tenant: string): Promise<void> {
    await scripts.release.run(this.redis, [keys.macIndex(mac)], [mac, tenant]);
  }

  /** The tenant holding each MAC (null: none), read in pipelined batches; a look, no claim. */
  async tenantsOfMacs(macs: readonly Mac[]): Promise<(string | null)[]> {
    await this.ready();
    const out: (string | null)[] = [];
    for (let start = 0; start < macs.length; start += CLAIM_BATCH) {
      const batch = macs.slice(start, start + CLAIM_BATCH);
      const owners = await Promise.all(batch.map((m) => this.redis.hGet(keys.macIndex(m), m)));
      out.push(...owners.map((o) => o ?? null));
    }
    return out;
  }

  async tenantOfMac(mac: Mac): Promise<string | null> {
    await this.ready();
    return (await this.redis.hGet(keys.macIndex(mac), mac)) ?? null;
  }

  async getDevice(tenant: string, mac: Mac): Promise<Device | null> {
    await this.ready();
    return toDevice(tenant, mac, await this.redis.hGetAll(keys.tenant(tenant).device(mac)));
  }

  /** The device behind a MAC, whatever its tenant (provisioning and SIP know only the MAC). */
  async findDevice(mac: Mac): Promise<Device | null> {
    const tenant = await this.tenantOfMac(mac);
    return tenant === null ? null : this.getDevice(tenant, mac);
  }

  /**
   * Every device of the tenant, read READ_BATCH hashes at a time: all at once put 10,000 commands
   * into the connection's queue per call, ahead of anything sent after them.
   */
  async listDevices(tenant: string): Promise<Device[]> {
    await this.ready();
    const k = keys.tenant(tenant);
    const macs = (await this.redis.zRange(k.devices, 0, -1)) as Mac[];
    const devices: Device[] = [];
    for (let start = 0; start < macs.length; start += READ_BATCH) {
      const batch = macs.slice(start, start + READ_BATCH);
      const hashes = await Promise.all(batch.map((m) => this.redis.hGetAll(k.device(m))));
      hashes.forEach((h, i) => {
        const d = toDevice(tenant, batch[i]!, h);
        if (d !== null) devices.push(d);
      });
    }
    return devices;
  }

  /**
   * Writes the `fields` of `next` over the device `read` (edit.lua): 'conflict' when one of them is
   * no longer what `read` holds (another edit came first: read again). `audit`: the event's fields
   * besides mac and actor, never a password.
   */
  async editDevice(
    read: Device,
    next: NewDevice,
    fields: readonly Editable[],
    audit: Record<string, string>,
    actor: Actor,
  ): Promise<'edited' | 'unknown' | 'conflict'> {
    await this.ready();
    const stored = (d: NewDevice, f: Editable) =>
      f === 'accounts' ? encodeAccounts(d.accounts) : f === 'language' ? (d.language ?? '') : d[f];
    const texts = fields.flatMap((f) => {
      const p = pieces(stored(next, f));
      return [DEVICE[f], stored(read, f), p.length, ...p];
    });
    const k = keys.tenant(read.tenant);
    return (await scripts.edit.run(
      this.redis,
      [k.device(read.mac), k.events],
      [this.now(), this.maxlen, actor, fields.length, ...texts, ...Object.entries(audit).flat()],
    )) as 'edited' | 'unknown' | 'conflict';
  }

  /**
   * accept.lua: `seen`, the model the device's last User-Agent mismatch named (acceptSeenModel),
   * becomes its model as `model` (its canonical name), audited. 'changed': the mismatch noted is no
   * longer that one.
   */
  async acceptModel(
    tenant: string,
    mac: Mac,
    seen: string,
    model: string,
    actor: Actor,
  ): Promise<{ from: string } | 'changed' | 'unknown'> {
    await this.ready();
    const k = keys.tenant(tenant);
    const r = JSON.parse(
      (await scripts.accept.run(
        this.redis,
        [k.device(mac), k.events],
        [this.now(), this.maxlen, actor, seen, model],
      )) as string,
    );
    if (r.error === 'unknown_device') return 'unknown';
    return r.error === 'changed' ? 'changed' : { from: r.from };
  }

  async deleteDevice(tenant: string, mac: Mac, actor: Actor): Promise<boolean> {
    await this.ready();
    const deleted = await this.removeDevice(tenant, mac, this.now(), actor);
    if (deleted) await this.releaseMac(mac, tenant);
    return deleted;
  }

  /** delete.lua: the device and what hangs on it, audited; its MAC stays claimed. */
  private async removeDevice(tenant: string, mac: Mac, now: number, actor: Actor): Promise<boolean> {
    const k = keys.tenant(tenant);
    const n = await scripts.delete.run(
      this.redis,
      [k.device(mac), k.devices, k.locks, k.events, k.registrations(mac), k.settings],
      [mac, now, this.maxlen, actor, ...deviceLayerFields(mac)],
    );
    return n === 1;
  }
}
