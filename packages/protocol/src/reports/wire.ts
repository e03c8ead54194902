/**
 * The canonical wire format of reports: one JSON object per report, no whitespace, "type" then the
 * report's EIP-712 fields in their order (REPORT_TYPES) then "signature"; lowercase 0x hex for
 * addresses, bytes and the signature, JSON integers for small numbers and a decimal string for the
 * uint64 timestamp. Example (beacon):
 *
 *   {"type":"beacon","device":"0x…","remoteEntropy":"0x…","localEntropy":"0x…","payload":"0x…",
 *    "frequency":904100000,"channel":9,"dataRate":2,"txPower":270,"timestamp":"1767225600000",
 *    "signature":"0x…"}
 *
 * A report has exactly one accepted text: the parser rebuilds the canonical text from what it read
 * and refuses anything else (other key order, spaces, duplicate keys, 1e3, uppercase hex), so the
 * stored text is the report. Parsing never throws: every refusal is a ParseError with a code.
 */
import type { TypedField } from "../eip712/typed-data.js";
import { isHexBytes, type Hex } from "../hex.js";
import { REPORT_TYPES, type BeaconReport, type Report, type WitnessReport } from "./types.js";

/** Longest accepted report text; a canonical report is ~550 characters. */
export const MAX_REPORT_LENGTH = 1024;

/** Why a text is not a report. Index + 1 is the code stored in the canonical epoch encoding. */
export const PARSE_ERROR_CODES = [
  "not_string",
  "too_large",
  "not_json",
  "not_object",
  "unknown_type",
  "missing_field",
  "unknown_field",
  "bad_type",
  "bad_hex",
  "out_of_range",
  "non_canonical",
] as const;

export type ParseErrorCode = (typeof PARSE_ERROR_CODES)[number];

export interface ParseError {
  readonly reason: "malformed";
  readonly code: ParseErrorCode;
  readonly field?: string;
  readonly detail: string;
}

export type ParseResult =
  | { readonly ok: true; readonly report: Report }
  | { readonly ok: false; readonly error: ParseError };

type FieldSpec =
  | { readonly name: string; readonly kind: "bytes"; readonly size: number }
  | { readonly name: string; readonly kind: "int"; readonly min: number; readonly max: number }
  | { readonly name: string; readonly kind: "uint64" }
  | { readonly name: string; readonly kind: "signature" };

/** A field's wire form, from its EIP-712 type: bytes as hex, small integers as JSON numbers, uint64 as a decimal string. */
function specOf({ name, type }: TypedField): FieldSpec {
  if (type === "address") return { name, kind: "bytes", size: 20 };
  const bytes = /^bytes([0-9]+)$/.exec(type);
  if (bytes !== null) return { name, kind: "bytes", size: Number(bytes[1]) };
  if (type === "uint64") return { name, kind: "uint64" };
  const int = /^(u?)int(8|16|32)$/.exec(type);
  if (int !== null) {
    const bits = Number(int[2]);
    return int[1] === "u"
      ? { name, kind: "int", min: 0, max: 2 ** bits - 1 }
      : { name, kind: "int", min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 };
  }
  throw new Error(`no wire form for ${type} ${name}`);
}

/** Per report type: its fields in wire order (the EIP-712 field list, then the signature). */
const SPECS: Readonly<Record<Report["type"], readonly FieldSpec[]>> = {
  beacon: [...REPORT_TYPES.Beacon.map(specOf), { name: "signature", kind: "signature" }],
  witness: [...REPORT_TYPES.Witness.map(specOf), { name: "signature", kind: "signature" }],
};
const UINT64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;
const quoted = (spec: FieldSpec) => spec.kind !== "int";

/** Per field of a report type: the text before and after its value. */
const encodingOf = (type: Report["type"]) =>
  SPECS[type].map((spec) => ({
    name: spec.name,
    before: quoted(spec) ? `,"${spec.name}":"` : `,"${spec.name}":`,
    after: quoted(spec) ? '"' : "",
  }));
const ENCODING = { beacon: encodingOf("beacon"), witness: encodingOf("witness") };

function encodeWith(type: Report["type"], fields: object): string {
  const values = fields as Record<string, unknown>;
  let out = `{"type":"${type}"`;
  for (const f of ENCODING[type]) out += f.before + String(values[f.name]) + f.after;
  return out + "}";
}

export function encodeBeacon(r: Omit<BeaconReport, "type">): string {
  return encodeWith("beacon", r);
}

export function encodeWitness(r: Omit<WitnessReport, "type">): string {
  return encodeWith("witness", r);
}

/** The canonical text of a report. */
export function encodeReport(r: Report): string {
  return encodeWith(r.type, r);
}

function fail(code: ParseErrorCode, detail: string, field?: string): ParseResult {
  return {
    ok: false,
    error:
      field === undefined
        ? { reason: "malformed", code, detail }
        : { reason: "malformed", code, field, detail },
  };
}

/**
 * Strictly parses one report text. Never throws.
 *
 * Two paths: a single-pass scanner that accepts exactly the canonical text (the common case,
 * no JSON.parse, no re-encoding), and for anything it does not accept, the JSON-based parser
 * below, which finds the precise reason. Both accept the same texts (tested).
 */
export function parseReport(raw: unknown): ParseResult {
  try {
    if (typeof raw === "string" && raw.length <= MAX_REPORT_LENGTH) {
      const report = scanCanonical(raw);
      if (report !== null) return { ok: true, report };
    }
    return parseUnsafe(raw);
  } catch (error) {
    // Defensive: nothing above is expected to throw, but a refusal must never escape as an exception.
    return fail("bad_type", `unexpected parser failure: ${String(error)}`);
  }
}

function parseUnsafe(raw: unknown): ParseResult {
  if (typeof raw !== "string") return fail("not_string", `expected a string, got ${typeof raw}`);
  if (raw.length > MAX_REPORT_LENGTH)
    return fail("too_large", `${raw.length} > ${MAX_REPORT_LENGTH} characters`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail("not_json", "not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("not_object", "expected a JSON object");
  }
  const obj = value as Record<string, unknown>;
  const type = obj["type"];
  if (type !== "beacon" && type !== "witness") {
    return fail("unknown_type", `type must be "beacon" or "witness"`, "type");
  }
  const specs = SPECS[type];
  for (const key of Object.keys(obj)) {
    if (key !== "type" && !specs.some((s) => s.name === key))
      return fail("unknown_field", `unknown field ${JSON.stringify(key)}`, key);
  }
  const fields: Record<string, unknown> = { type };
  for (const spec of specs) {
    if (!Object.hasOwn(obj, spec.name)) return fail("missing_field", `missing ${spec.name}`, spec.name);
    const v = obj[spec.name];
    switch (spec.kind) {
      case "bytes":
        if (typeof v !== "string") return fail("bad_type", `${spec.name} must be a hex string`, spec.name);
        if (!isHexBytes(v, spec.size))
          return fail(
            "bad_hex",
            `${spec.name} must be 0x + ${2 * spec.size} lowercase hex digits`,
            spec.name,
          );
        fields[spec.name] = v as Hex;
        break;
      case "signature":
        if (typeof v !== "string") return fail("bad_type", "signature must be a hex string", spec.name);
        if (!isHexBytes(v, 65) && !isHexBytes(v, 64))
          return fail("bad_hex", "signature must be 64 or 65 bytes of lowercase hex", spec.name);
        fields[spec.name] = v as Hex;
        break;
      case "int":
        if (typeof v !== "number" || !Number.isInteger(v))
          return fail("bad_type", `${spec.name} must be an integer`, spec.name);
        if (v < spec.min || v > spec.max)
          return fail("out_of_range", `${spec.name} must be in [${spec.min}, ${spec.max}]`, spec.name);
        fields[spec.name] = v;
        break;
      case "uint64": {
        if (typeof v !== "string")
          return fail("bad_type", `${spec.name} must be a decimal string`, spec.name);
        if (!DECIMAL.test(v))
          return fail("bad_type", `${spec.name} must be a canonical decimal string`, spec.name);
        const n = BigInt(v);
        if (n > UINT64_MAX) return fail("out_of_range", `${spec.name} exceeds uint64`, spec.name);
        fields[spec.name] = n;
        break;
      }
    }
  }
  const report = fields as unknown as Report;
  if (encodeReport(report) !== raw)
    return fail(
      "non_canonical",
      "not the canonical encoding (key order, spacing, duplicates or number form)",
    );
  return { ok: true, report };
}

// ---------------------------------------------------------------------------------------------
// The canonical scanner

class Scanner {
  pos = 0;
  ok = true;
  readonly raw: string;

  constructor(raw: string) {
    this.raw = raw;
  }

  /** Consumes `s` exactly. */
  lit(s: string): void {
    if (this.ok && this.raw.startsWith(s, this.pos)) this.pos += s.length;
    else this.ok = false;
  }

  /** 0x + exactly 2 x size lowercase hex digits. */
  hex(size: number): Hex {
    const start = this.pos;
    const end = start + 2 + 2 * size;
    const raw = this.raw;
    if (!this.ok || end > raw.length || raw.charCodeAt(start) !== 48 || raw.charCodeAt(start + 1) !== 120) {
      this.ok = false;
      return "0x";
    }
    for (let i = start + 2; i < end; i++) {
      const c = raw.charCodeAt(i);
      if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) {
        this.ok = false;
        return "0x";
      }
    }
    this.pos = end;
    return raw.slice(start, end) as Hex;
  }

  /** A 64- or 65-byte signature in hex, up to the closing quote. */
  signature(): Hex {
    const close = this.raw.indexOf('"', this.pos);
    const len = close - this.pos;
    if (!this.ok || (len !== 130 && len !== 132)) {
      this.ok = false;
      return "0x";
    }
    return this.hex((len - 2) / 2);
  }

  /** A canonical JSON integer (no leading zeros, no -0) in [min, max]. */
  int(min: number, max: number): number {
    const raw = this.raw;
    let i = this.pos;
    const negative = raw.charCodeAt(i) === 45;
    if (negative) i++;
    const digits = i;
    let v = 0;
    while (i < raw.length && i - digits < 11) {
      const c = raw.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const n = i - digits;
    if (!this.ok || n === 0 || (n > 1 && raw.charCodeAt(digits) === 48) || (negative && v === 0)) {
      this.ok = false;
      return 0;
    }
    const value = negative ? -v : v;
    if (value < min || value > max) {
      this.ok = false;
      return 0;
    }
    this.pos = i;
    return value;
  }

  /** A canonical decimal uint64 in quotes' content. */
  uint64(): bigint {
    const raw = this.raw;
    const start = this.pos;
    let i = start;
    while (i < raw.length && i - start <= 20) {
      const c = raw.charCodeAt(i);
      if (c < 48 || c > 57) break;
      i++;
    }
    const n = i - start;
    if (!this.ok || n === 0 || n > 20 || (n > 1 && raw.charCodeAt(start) === 48)) {
      this.ok = false;
      return 0n;
    }
    const v = BigInt(raw.slice(start, i));
    if (v > UINT64_MAX) {
      this.ok = false;
      return 0n;
    }
    this.pos = i;
    return v;
  }

  done(): boolean {
    return this.ok && this.pos === this.raw.length;
  }
}

/**
 * The scanner's plan for one report type: the literal text before each field's value (closing the
 * previous value's quote, the key, opening this value's quote) and the text after the last.
 */
interface ScanPlan {
  readonly type: Report["type"];
  readonly specs: readonly FieldSpec[];
  readonly before: readonly string[];
  readonly end: string;
}

function scanPlan(type: Report["type"]): ScanPlan {
  const specs = SPECS[type];
  const before = specs.map((spec, i) => {
    const opening = i === 0 ? `{"type":"${type}",` : quoted(specs[i - 1]!) ? `",` : `,`;
    return `${opening}"${spec.name}":${quoted(spec) ? '"' : ""}`;
  });
  return { type, specs, before, end: `${quoted(specs.at(-1)!) ? '"' : ""}}` };
}

const PLANS: readonly ScanPlan[] = [scanPlan("beacon"), scanPlan("witness")];

/** The report if `raw` is exactly a canonical report text, else null (no reason given). */
function scanCanonical(raw: string): Report | null {
  const plan = PLANS.find((p) => raw.startsWith(p.before[0]!));
  if (plan === undefined) return null;
  const s = new Scanner(raw);
  const report: Record<string, unknown> = { type: plan.type };
  for (let i = 0; i < plan.specs.length; i++) {
    const spec = plan.specs[i]!;
    s.lit(plan.before[i]!);
    switch (spec.kind) {
      case "bytes":
        report[spec.name] = s.hex(spec.size);
        break;
      case "int":
        report[spec.name] = s.int(spec.min, spec.max);
        break;
      case "uint64":
        report[spec.name] = s.uint64();
        break;
      case "signature":
        report[spec.name] = s.signature();
        break;
    }
    if (!s.ok) return null;
  }
  s.lit(plan.end);
  return s.done() ? (report as unknown as Report) : null;
}

/** Exposed for tests: whether the fast path alone accepts `raw`. */
export function isCanonicalReportText(raw: string): boolean {
  return raw.length <= MAX_REPORT_LENGTH && scanCanonical(raw) !== null;
}

/** Exposed for tests: the JSON-based path alone. */
export function parseReportSlow(raw: unknown): ParseResult {
  return parseUnsafe(raw);
}
