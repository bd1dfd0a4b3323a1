// Cards written in TypeScript (or JavaScript): a module whose default export (or `Card` export) is a class with
// the VirtualCard contract. Loaded by path; the instance is checked before it goes into a reader.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { VirtualCard } from '../card/contract.js';

export class CardModuleError extends Error {
  constructor(readonly modulePath: string, detail: string) {
    super(`card module ${modulePath}: ${detail}`);
    this.name = 'CardModuleError';
  }
}

export interface CardModule {
  /** `module:<file name without extension>`, the name a reader's insert uses. */
  name: string;
  path: string;
  create(): VirtualCard;
}

const METHODS = ['coldReset', 'warmReset', 'powerDown', 'transmit', 'flush'] as const;

function check(card: unknown, file: string): VirtualCard {
  if (card === null || typeof card !== 'object') throw new CardModuleError(file, 'the class did not construct an object');
  const c = card as Record<string, unknown>;
  if (!(c.atr instanceof Uint8Array) || c.atr.length < 2 || c.atr.length > 33) throw new CardModuleError(file, '`atr` must be a Uint8Array of 2 to 33 bytes');
  if (typeof c.supportedProtocols !== 'number' || (c.supportedProtocols & 3) === 0) throw new CardModuleError(file, '`supportedProtocols` must have bit 1 (T=0) or 2 (T=1) set');
  if (typeof c.profile !== 'string') throw new CardModuleError(file, '`profile` must be a string');
  if (typeof c.powered !== 'boolean') throw new CardModuleError(file, '`powered` must be a boolean');
  for (const m of METHODS) if (typeof c[m] !== 'function') throw new CardModuleError(file, `\`${m}()\` is missing (see smcard/card/contract.ts)`);
  return card as VirtualCard;
}

/** Imports the module (TypeScript runs through tsx, which the service is started with) and checks one instance. */
export async function loadCardModule(file: string): Promise<CardModule> {
  const abs = path.resolve(file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    throw new CardModuleError(file, `cannot be imported: ${(err as Error).message}`);
  }
  const Cls = (mod.default ?? mod.Card) as unknown;
  if (typeof Cls !== 'function') throw new CardModuleError(file, 'must export a card class as default or as `Card`');
  const Ctor = Cls as new () => unknown;
  const create = (): VirtualCard => check(new Ctor(), file);
  create(); // fail at load time, not at the first insert
  return { name: `module:${path.basename(abs).replace(/\.[cm]?[jt]s$/, '')}`, path: abs, create };
}
