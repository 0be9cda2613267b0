/**
 * Debian's chromium driven by playwright-core, with no network chatter: a fresh profile, or
 * `profile` (a folder kept between launches, as a desktop app keeps its own).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { repoRoot, tmpDir } from './tmp';

export const artefacts = path.join(repoRoot, 'test-results', 'e2e');

export async function launchChromium(profile?: string): Promise<BrowserContext> {
  mkdirSync(artefacts, { recursive: true });
  return chromium.launchPersistentContext(profile ?? tmpDir('orrery-chromium-'), {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
    ],
  });
}
