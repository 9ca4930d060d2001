export const DEFAULT_EMERGENCY_NUMBERS = [
  '112',
  '110',
  '911',
  '999',
  '000',
  '118',
  '119',
  '15',
  '17',
  '18',
  '144',
];

/**
 * Exact match on the dialled user part: an emergency call must never depend on anything but the
 * digits, and a prefix match would turn `1100` (a normal extension) into an emergency call.
 */
export function isEmergencyNumber(dialled: string, numbers: readonly string[]): boolean {
  return numbers.includes(dialled.trim());
}
