#!/usr/bin/env node
// `npm start`: runs service/main.ts from one JavaScript bundle of the project's sources, built with esbuild at
// first start and cached until a source file changes; falls back to tsx when esbuild cannot run.
//
// Why: under `node --import tsx` every one of ~200 source files is resolved and compiled through tsx's loader
// thread (its own V8 isolate, alive for the whole run), and tsx turns on source maps. A profile of start-up
// spent about as much time there as in starting the service itself, and the loader thread held ~30 MB of RSS.
// Packages stay outside the bundle (they are plain JavaScript already and find their own files), and every
// `import.meta.url` is replaced by the URL of the .ts file it is written in, so paths resolved from it (the
// package root, panel/, the device worker's sources) are exactly what they are when run through tsx.
//
// The bundle is CommonJS: imported from an ES module, every CommonJS package is first scanned for its export
// names (cjs-module-lexer), which a start-up profile put at about a quarter of the main thread's CPU; required
// from CommonJS it is not (the ES-only @noble packages load through require(esm), on by default since 20.19).
// It is compiled with V8's code cache, written next to it once the service has started, so later starts skip
// parsing and compiling the functions start-up runs.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

/** Bump when the way the bundle is made changes, so older cached bundles are not reused. */
const FORMAT = 5;
const root = fileURLToPath(new URL('..', import.meta.url));
const entry = join(root, 'service', 'main.ts');
const require = createRequire(import.meta.url);

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The bundle named by the manifest if every source it was built from is unchanged: same size and mtime, or
 * (touched, e.g. by a checkout) the same digest. Stat calls keep this check to a few ms; hashing every source
 * on every start showed as ~0.1 s in a start-up profile.
 */
function fresh(dir, manifestPath) {
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.format !== FORMAT) return undefined;
    for (const [file, known] of Object.entries(manifest.inputs)) {
      const path = join(root, file);
      const st = statSync(path);
      if (st.size === known.size && st.mtimeMs === known.mtimeMs) continue;
      if (sha256(readFileSync(path)) !== known.sha256) return undefined;
    }
    const bundle = join(dir, manifest.bundle);
    return statSync(bundle).isFile() ? bundle : undefined;
  } catch {
    return undefined;
  }
}

/** esbuild plugin: each project .ts file sees its own URL as import.meta.url (packages are left alone). */
const ownImportMetaUrl = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
      if (args.path.includes(`${join('node_modules', '')}`)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

async function build(dir, manifestPath) {
  const esbuild = require('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    metafile: true,
    // For `node --enable-source-maps` (off by default: mapping costs start-up time); paths relative to the cache.
    // In a file of its own: inline, it doubled what every start reads and what V8 keeps as the script's source.
    sourcemap: 'external',
    sourcesContent: false,
    outdir: dir,
    logLevel: 'silent',
    plugins: [ownImportMetaUrl],
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js')).text;
  const map = result.outputFiles.find((f) => f.path.endsWith('.js.map')).contents;
  const inputs = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const file = relative(root, resolve(input.replace(/^[a-z-]+:/, '')));
    // Stat before reading: a file changed while we read it then fails the next check instead of being missed.
    const st = statSync(join(root, file));
    inputs[file] = { size: st.size, mtimeMs: st.mtimeMs, sha256: sha256(readFileSync(join(root, file))) };
  }
  const bundle = `main-${sha256(js).slice(0, 16)}.cjs`;
  const code = `${js}//# sourceMappingURL=${bundle}.map\n`;
  mkdirSync(dir, { recursive: true });
  // Temporary names, then rename: a second `npm start` at the same moment never reads half a file.
  const tmp = `.${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(dir, `${bundle}.map${tmp}`), map);
  renameSync(join(dir, `${bundle}.map${tmp}`), join(dir, `${bundle}.map`));
  writeFileSync(join(dir, bundle + tmp), code);
  renameSync(join(dir, bundle + tmp), join(dir, bundle));
  writeFileSync(manifestPath + tmp, JSON.stringify({ format: FORMAT, esbuild: esbuild.version, bundle, inputs }));
  renameSync(manifestPath + tmp, manifestPath);
  // Bundles (and their code caches) replaced more than a minute ago go (a process starting right now may still
  // be loading one).
  for (const name of readdirSync(dir)) {
    if (!/^main-[0-9a-f]+\.(mjs|cjs)(\.map|\.[\w.-]+\.v8cache)?$/.test(name) || name.startsWith(`${bundle}.`) || name === bundle) continue;
    try {
      if (Date.now() - statSync(join(dir, name)).mtimeMs > 60_000) unlinkSync(join(dir, name));
    } catch {
      // another process removed it first
    }
  }
  return join(dir, bundle);
}

/** The cached bundle's path, built first if missing or stale; undefined when esbuild is not usable. */
async function bundledMain() {
  try {
    const dir = join(dirname(dirname(require.resolve('esbuild/package.json'))), '.cache', 'vscr-service');
    const manifestPath = join(dir, 'main.json');
    return fresh(dir, manifestPath) ?? (await build(dir, manifestPath));
  } catch {
    return undefined;
  }
}

/**
 * Loads the CommonJS bundle as node's require() would, but compiled with V8's code cache from `<bundle>.<node
 * version>.v8cache`. A missing or rejected cache (another node, other V8 flags) is written anew when the process
 * exits (the service exits on SIGINT/SIGTERM), so it holds every function the run compiled, start-up's included;
 * a cache that cannot be written is simply not used.
 */
function loadBundle(file) {
  // node maps stack traces only for code it compiled itself (through the source map the bundle links).
  if (process.sourceMapsEnabled) return require(file);
  const cacheFile = `${file}.${process.version}-${process.arch}.v8cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // first start of this bundle under this node
  }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
    // import() in the bundle (card modules) resolves as in any module of the main context, tsx hooks included.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  if (cachedData === undefined || script.cachedDataRejected === true) {
    process.once('exit', () => {
      try {
        const tmp = `${cacheFile}.${process.pid}`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // read-only cache directory: start without a code cache
      }
    });
  }
  return module.exports;
}

/**
 * The CommonJS packages the bundle requires (fastify and its plugins, pino, …) compiled with V8's code cache
 * too: node 20 compiles each from source at every start, which a start-up profile put at ~65 ms of the main
 * thread (node 22's module.enableCompileCache() does this itself). One file per node version holds every
 * package file's cache; it belongs to one state of node_modules (npm rewrites node_modules/.package-lock.json
 * on every install), and V8 itself rejects an entry whose source differs in length or whose flags differ.
 * Missing or rejected entries are added when the process exits.
 *
 * The same file remembers where each require() of the run resolved to: node looks every one up through
 * node_modules folders and package.json files (stat calls, reads, "exports" maps), ~660 of them before
 * listening, which measured 50–80 ms here. A remembered path is used only while node_modules is in the state it
 * was found in (the stamp above, which also names this checkout, so a copied tree does not load another's files)
 * and while the file is still there.
 */
function cachePackages(dir) {
  let stamp;
  try {
    const st = statSync(join(root, 'node_modules', '.package-lock.json'));
    stamp = `${root}:${st.size}-${st.mtimeMs}`;
  } catch {
    return;
  }
  const cacheFile = join(dir, `packages.${process.version}-${process.arch}.v8cache`);
  /**
   * filename → cached data, `<requiring module's folder>\0<request>` → filename; one file:
   * [u32 json length][json {stamp, entries: [name, offset, length][], resolved: {key: filename}}][data…]
   */
  const known = new Map();
  let resolved = new Map();
  try {
    const blob = readFileSync(cacheFile);
    const headerLength = blob.readUInt32LE(0);
    const header = JSON.parse(blob.subarray(4, 4 + headerLength).toString('utf8'));
    if (header.stamp === stamp) {
      for (const [name, offset, length] of header.entries) known.set(name, blob.subarray(4 + headerLength + offset, 4 + headerLength + offset + length));
      resolved = new Map(Object.entries(header.resolved ?? {}));
    }
  } catch {
    // first start under this node, or an unreadable cache: compile from source
  }
  const scripts = new Map();
  let changed = false;
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function resolveWithCache(request, parent, isMain, options) {
    // Built-ins are cheap to resolve; require.resolve(…, { paths }) searches elsewhere than the parent's folder.
    if (options !== undefined || typeof parent?.path !== 'string' || request.startsWith('node:') || Module.isBuiltin(request)) return resolve.call(this, request, parent, isMain, options);
    const key = `${parent.path}\0${request}`;
    const remembered = resolved.get(key);
    // existsSync (access(2)): no Stats object and no exception; a file that is gone is resolved afresh below.
    if (remembered !== undefined && existsSync(remembered)) return remembered;
    const filename = resolve.call(this, request, parent, isMain, options);
    if (filename !== remembered) {
      resolved.set(key, filename);
      changed = true;
    }
    return filename;
  };
  const compile = Module.prototype._compile;
  Module.prototype._compile = function compileWithCache(content, filename, format, ...rest) {
    // ES modules loaded through require(esm) (format 'module'), and anything not a package's script, go to node.
    const plain = typeof content !== 'string' || (format !== undefined && format !== 'commonjs') || !filename.includes(`${join('node_modules', '')}`) || !/\.c?js$/.test(filename);
    if (plain) return compile.call(this, content, filename, format, ...rest);
    const cachedData = known.get(filename);
    let script;
    try {
      script = new vm.Script(Module.wrap(content), {
        filename,
        cachedData,
        importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
      });
    } catch {
      // not CommonJS after all (node detects ES syntax itself): node compiles it and reports its own errors
      return compile.call(this, content, filename, format, ...rest);
    }
    if (cachedData === undefined || script.cachedDataRejected === true) changed = true;
    scripts.set(filename, script);
    const moduleRequire = createRequire(filename);
    // What node's own require gives a module: resolution from this module, the shared cache, the main module.
    moduleRequire.main = process.mainModule;
    return script.runInThisContext().call(this.exports, this.exports, moduleRequire, this, filename, dirname(filename));
  };
  process.once('exit', () => {
    if (!changed) return;
    try {
      const entries = [];
      const chunks = [];
      let offset = 0;
      for (const [name, data] of known) {
        if (scripts.has(name)) continue;
        entries.push([name, offset, data.length]);
        chunks.push(data);
        offset += data.length;
      }
      for (const [name, script] of scripts) {
        const data = script.createCachedData();
        entries.push([name, offset, data.length]);
        chunks.push(data);
        offset += data.length;
      }
      const header = Buffer.from(JSON.stringify({ stamp, entries, resolved: Object.fromEntries(resolved) }));
      const length = Buffer.alloc(4);
      length.writeUInt32LE(header.length);
      const tmp = `${cacheFile}.${process.pid}`;
      writeFileSync(tmp, Buffer.concat([length, header, ...chunks]));
      renameSync(tmp, cacheFile);
    } catch {
      // read-only cache directory: start without a package code cache
    }
  });
}

const bundle = await bundledMain();
if (bundle !== undefined && !process.sourceMapsEnabled) cachePackages(dirname(bundle));
if (bundle === undefined) {
  const { register } = await import('tsx/esm/api');
  register();
} else {
  // Card modules written in TypeScript (--card-module x.ts) need a loader; register tsx only when one is loaded.
  let registered;
  globalThis[Symbol.for('vscr.typescriptLoader')] = () => (registered ??= import('tsx/esm/api').then(({ register }) => void register()));
}
const { main } = bundle === undefined ? await import(pathToFileURL(entry).href) : loadBundle(bundle);
main(process.argv.slice(2));
