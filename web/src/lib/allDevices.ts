import { api, enc, type Device, type DeviceListPage } from '../api';

/** Every device matching `filter`, fetched page by page (the API's pages hold at most 1000). */
export async function allDevices(tenant: string, filter: Record<string, string>): Promise<Device[]> {
  const out: Device[] = [];
  for (;;) {
    const p = new URLSearchParams({ ...filter, limit: '1000', offset: String(out.length) });
    const page = await api<DeviceListPage>('GET', `/tenants/${enc(tenant)}/devices?${p}`);
    out.push(...page.devices);
    if (page.devices.length === 0 || out.length >= page.total) return out;
  }
}
