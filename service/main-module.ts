// Entry-point test shared by the service and CLI mains: is this module the script node was started with?

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * True when `moduleUrl` (the caller's `import.meta.url`) is the file node was asked to run. Both sides go
 * through realpath, so a symlinked bin or a relative argv[1] still matches; importing the module never does.
 */
export function isMainModule(moduleUrl: string): boolean {
  if (process.argv[1] === undefined) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
