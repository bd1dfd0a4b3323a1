// A card that answers from a CardScript: rules matched in order or by command, stages, a default answer, and a
// verdict (all rules consumed, first mismatch with what was expected and what came) a test can assert on.

import type { VirtualCard } from '../card/contract.js';
import type { CardScript, ScriptRule } from './card-script.js';
import { matchesPattern, spacedHex } from './hex-pattern.js';
import type { ScriptMismatch, ScriptVerdict } from './script-verdict.js';

export type { ScriptMismatch, ScriptVerdict } from './script-verdict.js';

function describeRule(r: ScriptRule): string {
  const pattern = r.command.text || '(any command)';
  return r.when ? `${pattern} [stage ${r.when}]` : pattern;
}

export class ScriptCard implements VirtualCard {
  readonly atr: Uint8Array;
  readonly supportedProtocols: number;
  readonly profile: string;
  private on = false;
  private stage: string;
  /** Ordered mode: the index of the next rule. */
  private next = 0;
  private readonly uses: number[];
  private exchanges = 0;
  private unmatched = 0;
  private mismatch: ScriptMismatch | null = null;

  constructor(readonly script: CardScript, label = `script:${script.name}`) {
    this.atr = script.atr;
    this.supportedProtocols = script.supportedProtocols;
    this.profile = label;
    this.stage = script.initialStage;
    this.uses = script.rules.map(() => 0);
  }

  get powered(): boolean {
    return this.on;
  }

  async coldReset(): Promise<Uint8Array> {
    this.on = true;
    return this.atr;
  }

  async warmReset(): Promise<Uint8Array> {
    this.on = true;
    return this.atr;
  }

  async powerDown(): Promise<void> {
    this.on = false;
  }

  async flush(): Promise<void> {}

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    this.exchanges += 1;
    const rule = this.script.ordered ? this.matchOrdered(apdu) : this.matchUnordered(apdu);
    if (rule === null) {
      this.unmatched += 1;
      return this.script.defaultResponse;
    }
    const n = this.uses[rule.index]++;
    if (rule.then !== undefined) this.stage = rule.then;
    return rule.responses[Math.min(n, rule.responses.length - 1)];
  }

  verdict(): ScriptVerdict {
    const unconsumed = this.script.rules
      .filter((r) => this.uses[r.index] === 0)
      .map((r) => ({ index: r.index, line: r.line, ...(r.name ? { name: r.name } : {}), command: r.command.text }));
    const complete = unconsumed.length === 0;
    return {
      script: this.script.name,
      mode: this.script.ordered ? 'ordered' : 'unordered',
      strict: this.script.strict,
      passed: complete && !(this.script.strict && this.mismatch !== null),
      complete,
      rules: this.script.rules.length,
      consumed: this.script.rules.length - unconsumed.length,
      unconsumed,
      exchanges: this.exchanges,
      unmatched: this.unmatched,
      stage: this.stage,
      mismatch: this.mismatch,
    };
  }

  private allowed(rule: ScriptRule): boolean {
    return rule.when === undefined || rule.when === this.stage;
  }

  private matchOrdered(apdu: Uint8Array): ScriptRule | null {
    const rules = this.script.rules;
    if (this.next >= rules.length && this.script.wrap && rules.length > 0) this.next = 0;
    const rule = rules[this.next];
    if (rule !== undefined && this.allowed(rule) && matchesPattern(rule.command, apdu)) {
      this.next += 1;
      return rule;
    }
    // In strict mode the script stops at the first unexpected command; otherwise it waits for the expected one.
    this.miss(apdu, rule ? [describeRule(rule)] : ['(end of script)']);
    return null;
  }

  private matchUnordered(apdu: Uint8Array): ScriptRule | null {
    for (const rule of this.script.rules) {
      if (rule.times !== undefined && this.uses[rule.index] >= rule.times) continue;
      if (this.allowed(rule) && matchesPattern(rule.command, apdu)) return rule;
    }
    const open = this.script.rules.filter((r) => (r.times === undefined || this.uses[r.index] < r.times) && this.allowed(r));
    this.miss(apdu, open.length ? open.slice(0, 8).map(describeRule) : [`(no rule left for stage ${this.stage})`]);
    return null;
  }

  private miss(apdu: Uint8Array, expected: string[]): void {
    if (this.mismatch !== null) return;
    const actual = spacedHex(apdu);
    this.mismatch = {
      exchange: this.exchanges,
      expected,
      actual,
      stage: this.stage,
      message: `exchange ${this.exchanges}: expected ${expected.join(' or ')}, got ${actual}`,
    };
  }
}
