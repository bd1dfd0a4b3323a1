// The card's file tree (MF 3F00, DFs, transparent EFs), file lookup for SELECT, and FCP/FCI encoding
// (ISO 7816-4 §7.1 and §5.3.3). Contents are the mutable part; the tree shape comes from the profile.

import { MF_FID, type AccessRule, type CardProfile } from './profile.js';
import { bytesEqual, parseHex } from './hex.js';
import { concatBytes } from '../../kernel/bytes.js';
import { tlv } from './tlv.js';

export interface DfNode {
  readonly kind: 'DF';
  readonly fid: number;
  /** `3F00/5000` */
  readonly path: string;
  readonly name: Uint8Array | null;
  readonly parent: DfNode | null;
  readonly children: Map<number, FileNode>;
}

export interface EfNode {
  readonly kind: 'EF';
  readonly fid: number;
  readonly path: string;
  readonly parent: DfNode;
  readonly size: number;
  /** Always exactly `size` bytes. */
  contents: Uint8Array;
  readonly read: AccessRule;
  readonly update: AccessRule;
  readonly deactivated: boolean;
}

export type FileNode = DfNode | EfNode;

export class CardFileSystem {
  readonly mf: DfNode;
  /** Every EF by path, for persistence. */
  readonly efs = new Map<string, EfNode>();
  private readonly dfsByName: DfNode[] = [];

  constructor(profile: CardProfile) {
    this.mf = { kind: 'DF', fid: 0x3f00, path: MF_FID, name: null, parent: null, children: new Map() };
    const byPath = new Map<string, DfNode>([[MF_FID, this.mf]]);
    // validateProfile guarantees parents come first, FIDs are unique per path and hex is well formed.
    for (const f of profile.files) {
      const parts = f.path.split('/');
      const parent = byPath.get(parts.slice(0, -1).join('/'))!;
      const fid = parseInt(parts[parts.length - 1], 16);
      if (f.type === 'DF') {
        const df: DfNode = { kind: 'DF', fid, path: f.path, name: f.name ? parseHex(f.name) : null, parent, children: new Map() };
        parent.children.set(fid, df);
        byPath.set(f.path, df);
        if (df.name) this.dfsByName.push(df);
      } else {
        const size = f.size ?? 0;
        const contents = new Uint8Array(size);
        contents.set(parseHex(f.contents ?? '') ?? new Uint8Array(0));
        const ef: EfNode = {
          kind: 'EF', fid, path: f.path, parent, size, contents,
          read: f.read ?? 'always', update: f.update ?? 'pin', deactivated: f.deactivated ?? false,
        };
        parent.children.set(fid, ef);
        this.efs.set(f.path, ef);
      }
    }
  }

  /**
   * SELECT P1=00 by FID from `current` (ISO 7816-4 §7.1.1): the MF by 3F00, otherwise a child of the current
   * DF, the current DF's parent, or a sibling DF/EF under that parent, in this order.
   */
  selectByFid(current: DfNode, fid: number): FileNode | null {
    if (fid === 0x3f00) return this.mf;
    const child = current.children.get(fid);
    if (child) return child;
    const parent = current.parent;
    if (parent) {
      if (parent.fid === fid) return parent;
      const sibling = parent.children.get(fid);
      if (sibling) return sibling;
    }
    return null;
  }

  /** Walks FIDs from `start` (path selection, P1=08/09); 3FFF is not supported (ISO's "current DF" marker). */
  selectByPath(start: DfNode, fids: readonly number[]): FileNode | null {
    let node: FileNode = start;
    for (const fid of fids) {
      if (node.kind !== 'DF') return null;
      const next: FileNode | undefined = node.children.get(fid);
      if (!next) return null;
      node = next;
    }
    return node;
  }

  /** DF by its full name (P1=04, first occurrence). */
  findDfByName(name: Uint8Array): DfNode | null {
    return this.dfsByName.find((df) => df.name !== null && bytesEqual(df.name, name)) ?? null;
  }
}

/** FCP template '62' (ISO 7816-4 Table 12): size, descriptor, FID, DF name, life cycle. */
export function fcpOf(node: FileNode): Uint8Array {
  return tlv(0x62, fcpContent(node));
}

/** FCI template '6F' carrying the same control parameters (P2 = 00). */
export function fciOf(node: FileNode): Uint8Array {
  return tlv(0x6f, fcpContent(node));
}

/** FMD template '64' (P2 = 08): the DF name for a DF, empty for an EF. */
export function fmdOf(node: FileNode): Uint8Array {
  return tlv(0x64, node.kind === 'DF' && node.name ? tlv(0x84, node.name) : new Uint8Array(0));
}

function fcpContent(node: FileNode): Uint8Array {
  const fid = tlv(0x83, [node.fid >> 8, node.fid & 0xff]);
  // Life cycle status '8A': 05 = operational activated, 04 = operational deactivated.
  if (node.kind === 'EF') {
    return concatBytes([
      tlv(0x80, [node.size >> 8, node.size & 0xff]),
      // File descriptor '82': 01 = working EF, transparent structure.
      tlv(0x82, [0x01]),
      fid,
      tlv(0x8a, [node.deactivated ? 0x04 : 0x05]),
    ]);
  }
  return concatBytes([
    // 38 = DF.
    tlv(0x82, [0x38]),
    fid,
    node.name ? tlv(0x84, node.name) : new Uint8Array(0),
    tlv(0x8a, [0x05]),
  ]);
}
