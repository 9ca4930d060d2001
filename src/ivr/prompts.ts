import path from 'node:path';
import type { Language } from '../domain/device';

export const PROMPTS = ['enter_pap', 'incorrect', 'not_possible', 'success', 'goodbye'] as const;
export type Prompt = (typeof PROMPTS)[number];

/** Absolute path of a prompt as FreeSWITCH opens it: `<promptsDir>/<language>/<name>.wav`. */
export function promptPath(promptsDir: string, language: Language, prompt: Prompt): string {
  return path.join(promptsDir, language, `${prompt}.wav`);
}

/** The device's language, else the tenant's, else the configured default. */
export function callLanguage(
  device: { language: Language | null } | null,
  tenant: { language: Language | null } | null,
  def: Language,
): Language {
  return device?.language ?? tenant?.language ?? def;
}
