import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/lib/paths';

/** Where the browser tests leave their screenshots (under dist/, so never committed). */
export const SCREENSHOT_DIR = path.join(PROJECT_ROOT, 'dist', 'screenshots');

/** Builds the console bundle from web/ now, so the browser tests always run today's sources. */
export function buildConsole(): void {
  execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'web', 'build.mjs')], { stdio: 'inherit' });
}

/** Debian's headless Chromium (installed by `scripts/setup.sh --test`), with a fresh profile. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export function screenshotPath(name: string): string {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, `${name}.png`);
}
