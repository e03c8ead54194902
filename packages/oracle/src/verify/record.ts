/**
 * The verifier's canonical record (WorkResult.record, hashed into the epoch's dataHash) and its
 * readable view, the Verdict.
 *
 * Verdict record, per report in canonical order (104 bytes):
 *   id bytes32 | receivedAt uint64 | kind uint8 (0 malformed, 1 beacon, 2 witness) | device address
 *   | reason uint8 (verify/reasons.ts, 0 = valid) | parse error uint8 (reports/wire.ts, 0 = none)
 *   | selected uint8 | beacon payload hash bytes32 | units uint64 (18 decimals)
 * preceded by the count (uint64). Malformed reports have zero device and payload hash.
 */
import { ByteWriter, PARSE_ERROR_CODES, type ChunkSource, type Hex } from "@hexmesh/protocol";

import { reasonOf, type Reason } from "./reasons.js";
import { KIND_BEACON, KIND_WITNESS, type ReportRows } from "./table.js";

export interface Verdict {
  /** EIP-712 digest of the report; for malformed text, keccak256 of the text. */
  readonly id: Hex;
  readonly receivedAt: number;
  readonly kind: "malformed" | "beacon" | "witness";
  /** Key id the report names (null if malformed). */
  readonly device: Hex | null;
  /** null = valid. */
  readonly reason: Reason | null;
  /**
   * Malformed: the parser's code (reports/wire.ts). Witness matched to a beacon: the numbers behind
   * its distance and signal checks (distance, grid distance, free-space bound, tolerance, margin;
   * rules/witness.ts describePair). Not part of the committed record: a readable explanation.
   */
  readonly detail: string | null;
  /** Beacon: keccak256(payload); witness: the payload hash it cites. */
  readonly beacon: Hex | null;
  /** Beacon: valid; witness: among the (at most 14) rewarded witnesses of its beacon. */
  readonly selected: boolean;
  /** HIP-15 units earned by this report, 18 decimals (before density scaling). */
  readonly units: bigint;
}

/** Verdicts per chunk of the record (104 bytes each: ~0.8 MiB chunks). */
const RECORD_CHUNK_ROWS = 8_192;

/** Bytes of one verdict in the record. */
export const VERDICT_BYTES = 104;

/**
 * The verdict record of the rows of `t` (canonical order) with their per-report outcome, built in
 * chunks each time it is read (hashed into the dataHash, served as the encoding): never held whole.
 */
export function verdictRecord(
  t: ReportRows,
  reason: Uint8Array,
  selected: Uint8Array,
  unitsOf: (i: number) => bigint,
): ChunkSource {
  return {
    byteLength: 8 + VERDICT_BYTES * t.length,
    *[Symbol.iterator]() {
      let w = new ByteWriter();
      w.u64(t.length);
      const field = new Uint8Array(32);
      for (let i = 0; i < t.length; i++) {
        t.copyField(i, "id", field, 0);
        w.copy(field, 0, 32).u64(t.receivedAt(i)).u8(t.kind(i));
        t.copyField(i, "device", field, 0);
        w.copy(field, 0, 20).u8(reason[i]!).u8(t.parseError(i)).u8(selected[i]!);
        t.copyField(i, "beacon", field, 0);
        w.copy(field, 0, 32).u64(unitsOf(i));
        if ((i + 1) % RECORD_CHUNK_ROWS === 0) {
          yield* w.finish();
          w = new ByteWriter();
        }
      }
      yield* w.finish();
    },
  };
}

/** The same records as Verdict objects, in the same order, one at a time (bounded memory). */
export function* iterateVerdicts(
  t: ReportRows,
  reason: Uint8Array,
  selected: Uint8Array,
  unitsOf: (i: number) => bigint,
  detailOf: (i: number) => string | null = () => null,
): Generator<Verdict> {
  for (let i = 0; i < t.length; i++)
    yield toVerdict(t, i, reason[i]!, selected[i] === 1, unitsOf(i), detailOf);
}

const KIND_NAME = ["malformed", "beacon", "witness"] as const;

/** What a stored epoch's summary counts of its verdicts (StoredEpochResult.summary). */
export interface VerdictCounts {
  readonly reports: number;
  readonly valid: number;
  readonly beacons: number;
  readonly witnesses: number;
  /** Refused reports by reason, keyed in the order each reason first occurs in canonical order. */
  readonly rejected: Record<string, number>;
}

/**
 * The verdicts' counts straight from the per-report outcome (what counting iterateVerdicts gives,
 * without building a verdict object, hex strings and a detail per report).
 */
export function countVerdicts(t: ReportRows, reason: Uint8Array): VerdictCounts {
  let beacons = 0;
  let witnesses = 0;
  let valid = 0;
  const byCode = new Map<number, number>();
  for (let i = 0; i < t.length; i++) {
    const kind = t.kind(i);
    if (kind === KIND_BEACON) beacons++;
    else if (kind === KIND_WITNESS) witnesses++;
    const code = reason[i]!;
    if (code === 0) valid++;
    else byCode.set(code, (byCode.get(code) ?? 0) + 1);
  }
  const rejected: Record<string, number> = {};
  for (const [code, n] of byCode) rejected[reasonOf(code)!] = n;
  return { reports: t.length, valid, beacons, witnesses, rejected };
}

function toVerdict(
  t: ReportRows,
  i: number,
  reason: number,
  selected: boolean,
  units: bigint,
  detailOf: (i: number) => string | null,
): Verdict {
  const kind = KIND_NAME[t.kind(i)]!;
  const malformed = kind === "malformed";
  return {
    id: t.idHex(i),
    receivedAt: t.receivedAt(i),
    kind,
    device: malformed ? null : t.deviceHex(i),
    reason: reasonOf(reason),
    detail: malformed ? PARSE_ERROR_CODES[t.parseError(i) - 1]! : detailOf(i),
    beacon: malformed ? null : t.beaconHex(i),
    selected,
    units,
  };
}
