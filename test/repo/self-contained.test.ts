// The repository stands alone: every document a tracked text file cites is inside it, cited by a repo-relative
// path (`docs/smclib.md §3.3`), and no note about how the work was organised is left behind.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** This file names every forbidden pattern, so it is the one file the scan skips. */
const SELF = 'test/repo/self-contained.test.ts';
const SKIPPED = [/^node_modules\//, /(^|\/)package-lock\.json$/, /\.(png|jpe?g|gif|ico|woff2?|pdf|der|bin)$/i];

// The forbidden names are spelled in pieces so that a plain grep of the repository for them finds nothing, this
// file included.
const FORBIDDEN_WORD = ['BRI', 'EF'].join('');
const SHARED = ['..', 'shared', ''].join('/');
const SPECS = ['shared', 'specs'].join('/');
const SEEDS = ['shared', 'seeds'].join('/');

/** Documents that lived beside the repository while it was written; none of them ships with it. */
const OUTSIDE = [
  { re: new RegExp(`\\b${FORBIDDEN_WORD}\\b`), why: `names a ${FORBIDDEN_WORD} the repository does not contain` },
  { re: /\.\.\/shared\//, why: `points at ${SHARED}, outside the repository` },
  { re: /\bshared\/(specs|seeds)\b/, why: `points at ${SPECS} or ${SEEDS}, outside the repository` },
  { re: /(^|[^\w/])seeds\/\d{3}/, why: 'points at a seed file, outside the repository (cite docs/background.md)' },
];

/** The fact sheets the code was written from. Those in docs/ are cited as docs/<name>; the rest are outside. */
const FACT_SHEETS = new Set([
  'brief.md', 'architecture.md', 'style.md', 'crypto-device.md', 'smclib.md', 'pcsclite-protocol.md', 'vpcd-protocol.md',
  'piv.md', 'openpgp-card.md', 'recording-formats.md',
]);

/** Leftovers of the process that produced the code, which mean nothing to a maintainer. */
const PROCESS_NOTES = [
  { re: /\badded by the [\w-]+ engineer\b/i, why: 'process note ("added by the … engineer")' },
  { re: /\b(the|a|our) (RM|reader|card|device|driver|service|client|test|docs?) engineer\b/i, why: 'process note (names a role on the team)' },
  { re: /\baudit(ed)? against issue\b/i, why: 'process note ("audit against issue N")' },
  { re: /\bbrief:/i, why: 'process note ("brief: …")' },
  { re: /\b(the|our) brief\b/i, why: 'process note (cites the brief)' },
  { re: /\bissue \d+\b/i, why: 'process note (cites a tracker issue by number; say what the code does instead)' },
];

/** Mentions of the two origin stories; a file that has one must also say where they are told. */
const ORIGIN_STORY = /\be-book\b|\bthe forum\b(?!-)|\bforum thread\b/i;

interface Violation {
  file: string;
  line: number;
  why: string;
  text: string;
}

/** Headings of a markdown file, for checking `§3.3` and `"Section name"` citations. */
function headingsOf(markdown: string): string[] {
  return markdown.split('\n').filter((l) => /^#{1,6} /.test(l)).map((l) => l.replace(/^#+\s*/, '').trim());
}

function sectionExists(headings: string[], section: string): boolean {
  const numbered = (n: string) => headings.some((h) => h === n || h === `${n}.` || h.startsWith(`${n} `) || h.startsWith(`${n}. `));
  if (numbered(section)) return true;
  // `§3.1.5` is item 5 of §3.1: accept the parent heading, one level up only.
  const parent = section.replace(/\.\d+[a-z]?$/, '');
  return parent !== section && numbered(parent);
}

interface RepoView {
  /** True when the repo-relative path names an existing file. */
  exists(path: string): boolean;
  /** Lower-cased basenames of docs/*.md. */
  docsNames: ReadonlySet<string>;
  /** The headings of docs/<name>, or undefined. */
  headings(docsPath: string): string[] | undefined;
}

const MD_REF = /(?<![\w.-])((?:\.{1,2}\/|[\w-]+\/)*[\w.-]+\.md)\b(`?\)?`?,?\s*(?:(§\s?\d+[a-z]?(?:\.\d+)*)|"([^"]+)"))?/g;

/** Every reference problem in one file's text. `file` is repo-relative with forward slashes. */
function checkText(file: string, text: string, repo: RepoView): Violation[] {
  const out: Violation[] = [];
  const dir = posix.dirname(file);
  const lines = text.split('\n');
  lines.forEach((lineText, i) => {
    const add = (why: string) => out.push({ file, line: i + 1, why, text: lineText.trim().slice(0, 160) });
    for (const rule of OUTSIDE) if (rule.re.test(lineText)) add(rule.why);
    for (const rule of PROCESS_NOTES) if (rule.re.test(lineText)) add(rule.why);
    for (const m of lineText.matchAll(MD_REF)) {
      const ref = m[1];
      if (/^https?:/.test(lineText.slice(Math.max(0, (m.index ?? 0) - 200), m.index).split(/\s/).pop() ?? '')) continue;
      const base = posix.basename(ref).toLowerCase();
      let target: string | undefined;
      if (ref.startsWith('docs/')) {
        if (!repo.exists(ref)) { add(`cites ${ref}, which does not exist`); continue; }
        target = ref;
      } else {
        const fromFile = posix.normalize(posix.join(dir, ref));
        if (repo.exists(fromFile)) target = fromFile;
        else if (repo.exists(posix.normalize(ref))) target = posix.normalize(ref);
        else if (repo.docsNames.has(base)) { add(`cites ${ref} by bare name; write docs/${base}`); continue; }
        else if (FACT_SHEETS.has(base)) { add(`cites ${ref}, a document outside the repository`); continue; }
        else continue; // another project's file (e.g. a changelog), not ours to resolve
      }
      const headings = target.startsWith('docs/') ? repo.headings(target) : undefined;
      if (!headings) continue;
      const section = m[3]?.replace(/^§\s?/, '');
      if (section && !sectionExists(headings, section)) add(`cites ${target} §${section}, which has no such section`);
      const named = m[4];
      if (named && !/^\d/.test(named) && !headings.some((h) => h.startsWith(named))) add(`cites ${target} "${named}", which has no such section`);
    }
  });
  if (ORIGIN_STORY.test(text) && !/background\.md/.test(text) && file !== 'docs/background.md') {
    const at = lines.findIndex((l) => ORIGIN_STORY.test(l));
    out.push({ file, line: at + 1, why: 'mentions the e-book or the forum thread without citing docs/background.md', text: lines[at].trim().slice(0, 160) });
  }
  return out;
}

function realRepo(): RepoView {
  const docsNames = new Set(readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => f.toLowerCase()));
  const cache = new Map<string, string[] | undefined>();
  return {
    exists: (p) => !p.startsWith('..') && existsSync(join(ROOT, p)),
    docsNames,
    headings(p) {
      if (!cache.has(p)) cache.set(p, existsSync(join(ROOT, p)) ? headingsOf(readFileSync(join(ROOT, p), 'utf8')) : undefined);
      return cache.get(p);
    },
  };
}

function trackedTextFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  return listed.filter((f) => f !== SELF && !SKIPPED.some((re) => re.test(f)) && existsSync(join(ROOT, f)));
}

/** A small repository with one docs file, for the planted references below. */
const FAKE: RepoView = {
  exists: (p) => ['docs/smclib.md', 'docs/background.md', 'smcard/card/APDUS.md'].includes(p),
  docsNames: new Set(['smclib.md', 'background.md']),
  headings: (p) => (p === 'docs/smclib.md' ? ['1. Constants', '3.3 IS_PRESENT and IS_ABSENT', 'The driver (WDF)'] : p === 'docs/background.md' ? [] : undefined),
};

describe('planted references are caught', () => {
  const why = (file: string, text: string) => checkText(file, text, FAKE).map((v) => v.why);

  it('a document outside the repository', () => {
    expect(why('a.ts', `// the REST contract (${FORBIDDEN_WORD} "REST")`)).toEqual([`names a ${FORBIDDEN_WORD} the repository does not contain`]);
    expect(why('a.ts', `// ${SHARED}specs/smclib.md §3.3`)[0]).toBe(`points at ${SHARED}, outside the repository`);
    expect(why('README.md', `in \`${SPECS}/piv.md\``)).toEqual([
      `points at ${SPECS} or ${SEEDS}, outside the repository`,
      `cites ${SPECS}/piv.md, a document outside the repository`,
    ]);
    expect(why('a.ts', '// the log (seeds/000)')).toEqual(['points at a seed file, outside the repository (cite docs/background.md)']);
  });

  it('a bare spec name, a missing docs file and a missing section', () => {
    expect(why('a.ts', '// smclib.md §3.3')).toEqual(['cites smclib.md by bare name; write docs/smclib.md']);
    expect(why('a.ts', '// specs/smclib.md §3.3')).toEqual(['cites specs/smclib.md by bare name; write docs/smclib.md']);
    expect(why('a.ts', '// docs/vpcd-protocol.md §2')).toEqual(['cites docs/vpcd-protocol.md, which does not exist']);
    expect(why('a.ts', '// docs/smclib.md §3.4')).toEqual(['cites docs/smclib.md §3.4, which has no such section']);
    expect(why('a.ts', '// docs/smclib.md "Reset"')).toEqual(['cites docs/smclib.md "Reset", which has no such section']);
  });

  it('accepts repo-relative citations, relative links and other projects\' files', () => {
    expect(why('a.ts', '// docs/smclib.md §3.3, docs/smclib.md §1.4 and docs/smclib.md "The driver"')).toEqual([]);
    expect(why('a.ts', '// docs/smclib.md §3.3.2 (an item of §3.3)')).toEqual([]);
    expect(why('smcard/card/x.ts', '// APDUS.md "Transport rules"')).toEqual([]);
    expect(why('docs/x.md', '[SMCLIB](smclib.md)')).toEqual([]);
    expect(why('smcard/reader/README.md', '[SMCLIB](../../docs/smclib.md)')).toEqual([]);
    expect(why('a.ts', '// pcsc-lite ChangeLog.md, CCID SCARDGETATTRIB.md')).toEqual([]);
  });

  it('process notes', () => {
    expect(why('a.ts', '/** Optional; added by the reader engineer. */')).toHaveLength(2);
    expect(why('a.ts', '// owned by the RM engineer')).toEqual(['process note (names a role on the team)']);
    expect(why('a.ts', '// audit against issue 4')).toHaveLength(2);
    expect(why('a.ts', '// (brief: cross-layer facts)')).toEqual(['process note ("brief: …")']);
    expect(why('a.ts', '/** Acceptance target (issue 2) */')).toHaveLength(1);
  });

  it('the origin stories need docs/background.md in the same file', () => {
    expect(why('a.ts', '// the forum\'s debugger log')).toEqual(['mentions the e-book or the forum thread without citing docs/background.md']);
    expect(why('a.ts', '// the e-book\'s QEMU default (docs/background.md)')).toEqual([]);
    expect(why('a.ts', "variant: 'forum-broken'")).toEqual([]);
  });
});

describe('the repository is self-contained', () => {
  it('every tracked text file cites only documents inside the repository, by repo-relative path', () => {
    const repo = realRepo();
    const files = trackedTextFiles();
    expect(files.length).toBeGreaterThan(100);
    const violations = files.flatMap((f) => {
      const text = readFileSync(join(ROOT, f), 'utf8');
      return text.includes('\0') ? [] : checkText(f, text, repo);
    });
    expect(violations.map((v) => `${v.file}:${v.line}: ${v.why}\n    ${v.text}`)).toEqual([]);
  });
});
