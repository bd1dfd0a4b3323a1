// Type-checks several tsconfig projects in one process, as `tsc --noEmit -p <each>` would, for `npm run typecheck`.
// One process loads the compiler once instead of once per project, and projects with the same parse settings
// share their parsed files (the main project and the browser-test one both read all of @types/node and the
// ES libraries): about 4 CPU-seconds less than three tsc runs. Parsing and binding a file depends only on the
// settings in the cache key, never on the program, which is what lets the TypeScript language service share
// files across projects the same way.
import path from 'node:path';
import ts from 'typescript';

/** Parsed files by path and by every setting that changes how a file parses or binds. */
const parsed = new Map();
const formatHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => ts.sys.newLine };
let errors = 0;

function report(diagnostics) {
  if (diagnostics.length === 0) return;
  errors += diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
  process.stdout.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost));
}

function check(project) {
  const configHost = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => report([d]) };
  const config = ts.getParsedCommandLineOfConfigFile(path.resolve(project), { noEmit: true }, configHost);
  if (!config) return;
  report(config.errors);
  const o = config.options;
  // Strictness decides whether the binder treats a script as strict code; the JS options only touch .js files.
  const settings = JSON.stringify([o.target, o.module, o.moduleResolution, o.moduleDetection, o.jsx, o.strict, o.alwaysStrict]);
  const jsSettings = JSON.stringify([o.allowJs, o.checkJs]);
  const host = ts.createCompilerHost(o);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError, fresh) => {
    const lang = typeof language === 'object' ? [language.languageVersion, language.impliedNodeFormat, language.jsDocParsingMode] : [language];
    const key = `${file}\0${settings}\0${/\.[cm]?jsx?$/.test(file) ? jsSettings : ''}\0${JSON.stringify(lang)}`;
    let source = fresh ? undefined : parsed.get(key);
    if (!source) {
      source = read(file, language, onError, fresh);
      if (source) parsed.set(key, source);
    }
    return source;
  };
  const program = ts.createProgram({ rootNames: config.fileNames, options: o, host, projectReferences: config.projectReferences });
  report(ts.getPreEmitDiagnostics(program));
}

const projects = process.argv.slice(2);
if (projects.length === 0) throw new Error('usage: node test/support/typecheck.mjs <tsconfig.json>...');
for (const project of projects) check(project);
if (errors > 0) process.stdout.write(`\nFound ${errors} error${errors === 1 ? '' : 's'}.\n`);
process.exitCode = errors > 0 ? 2 : 0;
