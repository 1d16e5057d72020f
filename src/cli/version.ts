// The package version for `jitgate --version`, read at run time from the package.json that ships with this code:
// the nearest one above this module named "jitgate" (dist/src/cli/ when built or installed, src/cli/ from a checkout).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageVersion(moduleUrl: string = import.meta.url): string {
  let directory = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'jitgate' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    const parent = dirname(directory);
    if (parent === directory) return 'unknown';
    directory = parent;
  }
}
