/**
 * Witness selection (stage 4): of a beacon's valid witnesses, at most `maxWitnessesPerBeacon` are
 * rewarded: those with the lowest keccak256(remoteEntropy ‖ beaconer key id ‖ witness key id).
 * Anyone can recompute it from the reports; arrival order does not matter; the beaconer cannot
 * steer it (the remote entropy is the oracle's, and the beaconer's own local entropy is deliberately
 * not part of the rank).
 */
import { keccak256Into } from "@hexmesh/protocol";

import type { ReportRows } from "./table.js";

export class WitnessSelection {
  private readonly table: ReportRows;
  private readonly rankBuf = new Uint8Array(72);
  private readonly rankOut = new Uint8Array(32);
  private readonly ranks = new Map<number, number>();

  constructor(table: ReportRows) {
    this.table = table;
  }

  /**
   * Sorts `witnesses` (report indexes of beacon b's valid witnesses) by rank, lowest first, in
   * place, and returns how many of them are selected: the first min(length, max).
   */
  select(b: number, witnesses: number[], max: number): number {
    const rank = this.ranks;
    for (const w of witnesses) rank.set(w, this.rank(b, w));
    witnesses.sort(
      (x, y) => rank.get(x)! - rank.get(y)! || compareBytes(this.fullRank(b, x), this.fullRank(b, y)),
    );
    rank.clear();
    return Math.min(witnesses.length, max);
  }

  /** Selection hash keccak256(remoteEntropy ‖ beaconer key id ‖ witness key id) into rankOut. */
  private selectionHash(b: number, w: number): Uint8Array {
    const t = this.table;
    const buf = this.rankBuf;
    t.copyField(b, "remoteEntropy", buf, 0);
    t.copyField(b, "device", buf, 32);
    t.copyField(w, "device", buf, 52);
    keccak256Into(buf, 0, 72, this.rankOut, 0);
    return this.rankOut;
  }

  /** First 48 bits of the selection hash, exact in a double: the lowest are selected. */
  private rank(b: number, w: number): number {
    const o = this.selectionHash(b, w);
    return (
      ((o[0]! << 8) | o[1]!) * 0x1_0000_0000 + (((o[2]! << 24) | (o[3]! << 16) | (o[4]! << 8) | o[5]!) >>> 0)
    );
  }

  /** The full selection hash (a copy), for the 2^-48-rare ties on the first 48 bits. */
  private fullRank(b: number, w: number): Uint8Array {
    return this.selectionHash(b, w).slice();
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return 0;
}
