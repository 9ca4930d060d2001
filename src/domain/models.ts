import type { Device } from './device';

/**
 * An admin accepts the model a phone's User-Agent named (a phone swapped between desks: the
 * provisioning refusal `user_agent_mismatch` noted it, see acceptableModel in
 * src/provisioning/request.ts): the device's model becomes it. Null when there is nothing to
 * accept: no mismatch noted, one naming another MAC or vendor (another device, not another model),
 * or the model it named is the device's already. Mirrored by `lua/accept.lua`.
 */
export function acceptSeenModel(d: Pick<Device, 'model' | 'userAgentMismatch'>): string | null {
  const seen = d.userAgentMismatch?.model ?? null;
  return seen === null || seen === d.model ? null : seen;
}
