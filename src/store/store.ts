import { Audit } from './audit';
import { Authentication } from './auth';
import { StoreNotReadyError, type RedisClient } from './connect';
import { StoreContext, type StoreOptions } from './context';
import { Devices } from './devices';
import { Provisioning } from './provisioning';
import type { Schema } from './schema';
import { Tenants } from './tenants';
import { Whitelists } from './whitelists';

export type { RedisClient, StoreOptions };

/**
 * All of papgate's state on one connection, as one object. main.ts makes one per connection (the
 * phones', the admin API's) and hands it to the edges, which name the methods they use with
 * Pick<Store, ...>; tests and benchmarks set up and check through it. Each method is the one of the
 * same name in the part that keeps that kind of record; this file only puts them together.
 */
export class Store {
  private readonly tenants: Tenants;
  private readonly devices: Devices;
  private readonly auth: Authentication;
  private readonly whitelists: Whitelists;
  private readonly provisioning: Provisioning;
  private readonly audit: Audit;

  constructor(
    readonly redis: RedisClient,
    private readonly opts: StoreOptions,
  ) {
    const ctx = new StoreContext(redis, opts);
    this.tenants = new Tenants(ctx);
    this.devices = new Devices(ctx);
    this.audit = new Audit(ctx);
    this.auth = new Authentication(ctx, this.devices, this.audit);
    this.whitelists = new Whitelists(ctx);
    this.provisioning = new Provisioning(ctx, this.devices);
  }

  get schema(): Schema | undefined {
    return this.opts.schema;
  }

  /**
   * Redis answers, and its data is in the current layout (else StoreNotReadyError). Asked in that
   * order: a Redis that never answered is unreachable, not being migrated.
   */
  async ping(): Promise<void> {
    await this.redis.ping();
    if (this.opts.schema && !this.opts.schema.isCurrent) throw new StoreNotReadyError();
  }

  // tenants.ts
  putTenant(...a: Parameters<Tenants['putTenant']>) {
    return this.tenants.putTenant(...a);
  }
  getTenant(...a: Parameters<Tenants['getTenant']>) {
    return this.tenants.getTenant(...a);
  }
  tenantIds(...a: Parameters<Tenants['tenantIds']>) {
    return this.tenants.tenantIds(...a);
  }

  // devices.ts
  createDevices(...a: Parameters<Devices['createDevices']>) {
    return this.devices.createDevices(...a);
  }
  probeRetryAt(...a: Parameters<Devices['probeRetryAt']>) {
    return this.devices.probeRetryAt(...a);
  }
  countProbe(...a: Parameters<Devices['countProbe']>) {
    return this.devices.countProbe(...a);
  }
  tenantsOfMacs(...a: Parameters<Devices['tenantsOfMacs']>) {
    return this.devices.tenantsOfMacs(...a);
  }
  tenantOfMac(...a: Parameters<Devices['tenantOfMac']>) {
    return this.devices.tenantOfMac(...a);
  }
  getDevice(...a: Parameters<Devices['getDevice']>) {
    return this.devices.getDevice(...a);
  }
  findDevice(...a: Parameters<Devices['findDevice']>) {
    return this.devices.findDevice(...a);
  }
  listDevices(...a: Parameters<Devices['listDevices']>) {
    return this.devices.listDevices(...a);
  }
  acceptModel(...a: Parameters<Devices['acceptModel']>) {
    return this.devices.acceptModel(...a);
  }
  deleteDevice(...a: Parameters<Devices['deleteDevice']>) {
    return this.devices.deleteDevice(...a);
  }
  editDevice(...a: Parameters<Devices['editDevice']>) {
    return this.devices.editDevice(...a);
  }

  // auth.ts
  attemptPap(...a: Parameters<Authentication['attemptPap']>) {
    return this.auth.attemptPap(...a);
  }
  settleLock(...a: Parameters<Authentication['settleLock']>) {
    return this.auth.settleLock(...a);
  }
  expiredLocks(...a: Parameters<Authentication['expiredLocks']>) {
    return this.auth.expiredLocks(...a);
  }
  resetDevice(...a: Parameters<Authentication['resetDevice']>) {
    return this.auth.resetDevice(...a);
  }
  suspendDevice(...a: Parameters<Authentication['suspendDevice']>) {
    return this.auth.suspendDevice(...a);
  }
  endPinBypass(...a: Parameters<Authentication['endPinBypass']>) {
    return this.auth.endPinBypass(...a);
  }
  unlockDevice(...a: Parameters<Authentication['unlockDevice']>) {
    return this.auth.unlockDevice(...a);
  }
  setDisabled(...a: Parameters<Authentication['setDisabled']>) {
    return this.auth.setDisabled(...a);
  }

  // whitelists.ts
  whitelist(...a: Parameters<Whitelists['whitelist']>) {
    return this.whitelists.whitelist(...a);
  }
  addWhitelist(...a: Parameters<Whitelists['addWhitelist']>) {
    return this.whitelists.addWhitelist(...a);
  }
  removeWhitelist(...a: Parameters<Whitelists['removeWhitelist']>) {
    return this.whitelists.removeWhitelist(...a);
  }
  temporaryWhitelist(...a: Parameters<Whitelists['temporaryWhitelist']>) {
    return this.whitelists.temporaryWhitelist(...a);
  }
  removeTemporary(...a: Parameters<Whitelists['removeTemporary']>) {
    return this.whitelists.removeTemporary(...a);
  }
  isSiteNetwork(...a: Parameters<Whitelists['isSiteNetwork']>) {
    return this.whitelists.isSiteNetwork(...a);
  }

  // provisioning.ts
  get provisionsInOneScript(): boolean {
    return this.provisioning.provisionsInOneScript;
  }
  recordFullProvisioning(...a: Parameters<Provisioning['recordFullProvisioning']>) {
    return this.provisioning.recordFullProvisioning(...a);
  }
  recordProvisioning(...a: Parameters<Provisioning['recordProvisioning']>) {
    return this.provisioning.recordProvisioning(...a);
  }
  provisioningState(...a: Parameters<Provisioning['provisioningState']>) {
    return this.provisioning.provisioningState(...a);
  }
  provision(...a: Parameters<Provisioning['provision']>) {
    return this.provisioning.provision(...a);
  }
  missCount(...a: Parameters<Provisioning['missCount']>) {
    return this.provisioning.missCount(...a);
  }
  countMiss(...a: Parameters<Provisioning['countMiss']>) {
    return this.provisioning.countMiss(...a);
  }

  // audit.ts
  appendEvent(...a: Parameters<Audit['appendEvent']>) {
    return this.audit.appendEvent(...a);
  }
  appendTraffic(...a: Parameters<Audit['appendTraffic']>) {
    return this.audit.appendTraffic(...a);
  }
  emergencyCall(...a: Parameters<Audit['emergencyCall']>) {
    return this.audit.emergencyCall(...a);
  }
  maxEvents(...a: Parameters<Audit['maxEvents']>) {
    return this.audit.maxEvents(...a);
  }
  events(...a: Parameters<Audit['events']>) {
    return this.audit.events(...a);
  }
}
