// Bundles the device worker's .ts sources into one cached .mjs with esbuild, so a worker started from sources
// loads plain JavaScript instead of bootstrapping tsx's loader in every new thread (~80 ms against 270–470 ms).

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What the cache remembers about one bundle: the source files it was built from and their digests. */
interface Manifest {
  bundle: string;
  inputs: Record<string, string>;
}

const built = new Map<string, URL>();

/**
 * The bundled form of the worker `entry` (a .ts file URL), built at first use and reused while none of the
 * project's source files it was built from changed (packages under node_modules are taken as fixed). Throws when
 * esbuild is unavailable; the caller then falls back to the tsx bootstrap.
 */
export function bundledWorker(entry: URL): URL {
  const cached = built.get(entry.href);
  if (cached) return cached;
  const entryPath = fileURLToPath(entry);
  const dir = cacheDir();
  const key = createHash('sha256').update(entryPath).digest('hex').slice(0, 16);
  const manifestPath = join(dir, `${key}.json`);
  const fresh = readFresh(manifestPath, dir);
  const url = pathToFileURL(fresh ?? build(entryPath, dir, key, manifestPath));
  built.set(entry.href, url);
  return url;
}

/** The bundle path if the manifest exists and every source it names still has the same digest. */
function readFresh(manifestPath: string, dir: string): string | undefined {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    for (const [file, digest] of Object.entries(manifest.inputs)) if (sha256(readFileSync(file)) !== digest) return undefined;
    const bundle = join(dir, manifest.bundle);
    readFileSync(bundle); // present
    return bundle;
  } catch {
    return undefined;
  }
}

function build(entryPath: string, dir: string, key: string, manifestPath: string): string {
  const require = createRequire(import.meta.url);
  // esbuild comes with tsx (a runtime dependency); loaded only here, so the compiled build never needs it.
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({
    entryPoints: [entryPath],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const file = resolve(input);
    if (file.includes(`${join('node_modules', '')}`)) continue;
    inputs[file] = sha256(readFileSync(file));
  }
  const bundle = `${key}-${sha256(code).slice(0, 16)}.mjs`;
  mkdirSync(dir, { recursive: true });
  // Written under temporary names and renamed, so a concurrent process never reads half a file.
  const tmp = `.${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(dir, bundle + tmp), code);
  renameSync(join(dir, bundle + tmp), join(dir, bundle));
  const manifest: Manifest = { bundle, inputs };
  writeFileSync(manifestPath + tmp, JSON.stringify(manifest));
  renameSync(manifestPath + tmp, manifestPath);
  return join(dir, bundle);
}

/** node_modules/.cache/vscr beside the installed packages, or the OS temporary directory when that is not writable. */
function cacheDir(): string {
  try {
    const nodeModules = dirname(dirname(createRequire(import.meta.url).resolve('esbuild/package.json')));
    const dir = join(nodeModules, '.cache', 'vscr-device-worker');
    mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    return join(tmpdir(), 'vscr-device-worker');
  }
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
