import { expect } from "chai";
import fc from "fast-check";

import {
  encodeReport,
  isCanonicalReportText,
  MAX_REPORT_LENGTH,
  PARSE_ERROR_CODES,
  parseReport,
  parseReportSlow,
  type ParseErrorCode,
  type Report,
} from "@hexmesh/protocol";

import { DOMAIN, EPOCH_START, makeBeacon, makeWitness, World } from "../../helpers/oracle.js";

function fixtures(): { beacon: Report; witness: Report } {
  const world = new World();
  const a = world.addDevice("a");
  const b = world.addDevice("b", { kind: "p256", northM: 1_500 });
  const beacon = makeBeacon(a, world.publishEntropy(EPOCH_START));
  return { beacon, witness: makeWitness(b, a, beacon, {}, DOMAIN) };
}

function refusal(raw: unknown): { code: ParseErrorCode; field?: string } {
  const r = parseReport(raw);
  if (r.ok) throw new Error(`accepted ${String(raw)}`);
  expect(r.error.reason).to.equal("malformed");
  expect(r.error.detail).to.be.a("string").and.not.equal("");
  return r.error.field === undefined ? { code: r.error.code } : { code: r.error.code, field: r.error.field };
}

/** Replaces `"key":value` in a canonical text. */
function withField(raw: string, key: string, value: string): string {
  const re = new RegExp(`"${key}":("[^"]*"|-?[0-9.e+]+)`);
  expect(re.test(raw), key).to.equal(true);
  return raw.replace(re, `"${key}":${value}`);
}

describe("oracle / reports: canonical wire format", function () {
  const { beacon, witness } = fixtures();
  const beaconText = encodeReport(beacon);
  const witnessText = encodeReport(witness);

  it("round-trips beacons and witnesses (secp256k1 and P-256 signatures)", function () {
    for (const [text, report] of [
      [beaconText, beacon],
      [witnessText, witness],
    ] as const) {
      const r = parseReport(text);
      expect(r.ok).to.equal(true);
      if (r.ok) {
        expect(r.report).to.deep.equal(report);
        expect(encodeReport(r.report)).to.equal(text);
      }
    }
    expect(witness.signature.length).to.equal(130);
    expect(beacon.signature.length).to.equal(132);
  });

  it("refuses each kind of malformed text with its code", function () {
    const cases: [unknown, ParseErrorCode, string?][] = [
      [42, "not_string"],
      [undefined, "not_string"],
      ["x".repeat(MAX_REPORT_LENGTH + 1), "too_large"],
      ["{", "not_json"],
      ["", "not_json"],
      ["[1,2]", "not_object"],
      ["null", "not_object"],
      ['"beacon"', "not_object"],
      ['{"type":"challenge"}', "unknown_type", "type"],
      ['{"type":"__proto__"}', "unknown_type", "type"],
      ['{"device":"0x"}', "unknown_type", "type"],
      [beaconText.replace(/,"channel":[0-9]+/, ""), "missing_field", "channel"],
      [beaconText.replace('"type":"beacon",', '"type":"beacon","extra":1,'), "unknown_field", "extra"],
      [
        witnessText.replace('"type":"witness",', '"type":"witness","__proto__":{},'),
        "unknown_field",
        "__proto__",
      ],
      [withField(beaconText, "device", "12"), "bad_type", "device"],
      [withField(beaconText, "device", `"0x${"AB".repeat(20)}"`), "bad_hex", "device"],
      [withField(beaconText, "device", `"0x${"ab".repeat(19)}"`), "bad_hex", "device"],
      [withField(beaconText, "payload", `"${"ab".repeat(32)}"`), "bad_hex", "payload"],
      [withField(beaconText, "signature", `"0x${"ab".repeat(63)}"`), "bad_hex", "signature"],
      [withField(beaconText, "signature", "7"), "bad_type", "signature"],
      [withField(beaconText, "channel", "1.5"), "bad_type", "channel"],
      [withField(beaconText, "channel", '"8"'), "bad_type", "channel"],
      [withField(beaconText, "channel", "256"), "out_of_range", "channel"],
      [withField(beaconText, "txPower", "-32769"), "out_of_range", "txPower"],
      [withField(beaconText, "frequency", "4294967296"), "out_of_range", "frequency"],
      [withField(witnessText, "snr", "40000"), "out_of_range", "snr"],
      [withField(beaconText, "timestamp", "5"), "bad_type", "timestamp"],
      [withField(beaconText, "timestamp", '"05"'), "bad_type", "timestamp"],
      [withField(beaconText, "timestamp", '"-5"'), "bad_type", "timestamp"],
      [withField(beaconText, "timestamp", '"18446744073709551616"'), "out_of_range", "timestamp"],
      [beaconText.replace(',"channel"', ', "channel"'), "non_canonical"],
      [`${beaconText}\n`, "non_canonical"],
      [withField(beaconText, "channel", "8.0"), "non_canonical"],
      [withField(beaconText, "channel", "8e0"), "non_canonical"],
      [withField(beaconText, "txPower", "-0"), "non_canonical"],
      [beaconText.replace('"type":"beacon",', '"type":"beacon","type":"beacon",'), "non_canonical"],
      [
        // same fields, other key order
        beaconText.replace(/"channel":([0-9]+),"dataRate":([0-9]+)/, '"dataRate":$2,"channel":$1'),
        "non_canonical",
      ],
    ];
    const seen = new Set<ParseErrorCode>();
    for (const [raw, code, field] of cases) {
      const e = refusal(raw);
      expect(e.code, String(raw).slice(0, 80)).to.equal(code);
      if (field !== undefined) expect(e.field).to.equal(field);
      seen.add(code);
    }
    expect([...seen].sort()).to.deep.equal([...PARSE_ERROR_CODES].sort());
  });

  it("never throws and refuses with a reason on any string (property)", function () {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.json()), (raw) => {
        const r = parseReport(raw);
        if (r.ok) expect(encodeReport(r.report)).to.equal(raw);
        else expect(PARSE_ERROR_CODES).to.include(r.error.code);
      }),
      { numRuns: 1_000 },
    );
  });

  it("never throws on JSON objects with report-like keys and arbitrary values (property)", function () {
    const keys = [
      "type",
      "device",
      "witness",
      "remoteEntropy",
      "localEntropy",
      "payload",
      "frequency",
      "channel",
      "dataRate",
      "txPower",
      "signal",
      "snr",
      "beaconPayloadHash",
      "timestamp",
      "signature",
      "toString",
      "__proto__",
    ];
    const value = fc.oneof(
      fc.constantFrom("beacon", "witness"),
      fc.jsonValue(),
      fc.integer(),
      fc.double(),
      fc.uint8Array({ maxLength: 66 }).map((b) => `0x${Buffer.from(b).toString("hex")}`),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), value), (obj) => {
        const raw = JSON.stringify(obj);
        const r = parseReport(raw);
        if (r.ok) expect(encodeReport(r.report)).to.equal(raw);
        else expect(r.error.reason).to.equal("malformed");
      }),
      { numRuns: 2_000 },
    );
  });

  it("the fast scanner and the JSON parser accept exactly the same texts (property)", function () {
    const hex = (n: number) =>
      fc.uint8Array({ minLength: n, maxLength: n }).map((b) => `0x${Buffer.from(b).toString("hex")}`);
    const int = (min: number, max: number) => fc.integer({ min, max });
    const ts = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    const sig = fc.oneof(hex(64), hex(65));
    const texts = fc.oneof(
      fc
        .record({
          device: hex(20),
          remoteEntropy: hex(32),
          localEntropy: hex(32),
          payload: hex(32),
          frequency: int(0, 0xffffffff),
          channel: int(0, 255),
          dataRate: int(0, 255),
          txPower: int(-32768, 32767),
          timestamp: ts,
          signature: sig,
        })
        .map((r) => encodeReport({ type: "beacon", ...r } as Report)),
      fc
        .record({
          witness: hex(20),
          beaconPayloadHash: hex(32),
          signal: int(-32768, 32767),
          snr: int(-32768, 32767),
          frequency: int(0, 0xffffffff),
          dataRate: int(0, 255),
          timestamp: ts,
          signature: sig,
        })
        .map((r) => encodeReport({ type: "witness", ...r } as Report)),
    );
    const edited = fc
      .tuple(
        texts,
        fc.nat(),
        fc.constantFrom("delete", "insert", "replace"),
        fc.string({ minLength: 1, maxLength: 3 }),
      )
      .map(([t, at, op, ch]) => {
        const i = at % t.length;
        return op === "delete"
          ? t.slice(0, i) + t.slice(i + 1)
          : op === "insert"
            ? t.slice(0, i) + ch + t.slice(i)
            : t.slice(0, i) + ch + t.slice(i + 1);
      });
    fc.assert(
      fc.property(fc.oneof(texts, edited, edited), (text) => {
        const slow = parseReportSlow(text);
        expect(isCanonicalReportText(text), text).to.equal(slow.ok);
        const r = parseReport(text);
        expect(r).to.deep.equal(slow);
      }),
      { numRuns: 3_000 },
    );
  });

  it("every single-character edit of a valid text is refused or is another canonical report (property)", function () {
    const chars = fc.constantFrom(...'0123456789abcdefABx-.e"{}[],: ');
    fc.assert(
      fc.property(
        fc.constantFrom(beaconText, witnessText),
        fc.nat(),
        fc.constantFrom("delete", "insert", "replace"),
        chars,
        (text, at, op, ch) => {
          const i = at % text.length;
          const edited =
            op === "delete"
              ? text.slice(0, i) + text.slice(i + 1)
              : op === "insert"
                ? text.slice(0, i) + ch + text.slice(i)
                : text.slice(0, i) + ch + text.slice(i + 1);
          const r = parseReport(edited);
          if (r.ok) expect(encodeReport(r.report)).to.equal(edited);
          else expect(r.error.reason).to.equal("malformed");
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
