/**
 * The stored JSON with bigints (chain indexes, owner lists): fromJson is the inverse of toJson, and
 * it reads any JSON text as the JSON.parse reviver it replaced did.
 */
import { expect } from "chai";
import fc from "fast-check";

import { fromJson, toJson } from "../../../packages/oracle/src/store/json.js";

/** The reviver fromJson replaced (kept here as the reference it must match). */
function reviverParse(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === "$n" && typeof o.$n === "string") return BigInt(o.$n);
    }
    return v;
  });
}

const withBigints = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.bigInt(),
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(
      fc.oneof(fc.string(), fc.constantFrom("__proto__", "n")).filter((k) => k !== "$n"),
      tie("value"),
      {
        maxKeys: 4,
      },
    ),
  ),
})).value;

// Objects whose only key is "$n" are how bigints are written, so written values never hold one.
describe("oracle / store / JSON with bigints", () => {
  it("reads back what it wrote, bigints included (property)", () => {
    fc.assert(
      fc.property(withBigints, (v) => {
        expect(fromJson(toJson(v))).to.deep.equal(v);
      }),
      { numRuns: 300 },
    );
  });

  it("reads any JSON text as the reviver did (property)", () => {
    const nearBigints = fc.oneof(
      fc.json(),
      fc.bigInt().map((n) => JSON.stringify({ $n: n.toString() })),
      fc.bigInt().map((n) => JSON.stringify([{ $n: n.toString() }, { a: { $n: n.toString() } }])),
      fc.constantFrom(
        '{"$n":5}',
        '{"$n":"7","x":1}',
        '{"x":1,"$n":"7"}',
        '{"__proto__":{"$n":"3"}}',
        '{"__proto__":{"polluted":true}}',
        '[{"$n":"-12"},null,{"$n":"0"}]',
        '{"$n":"1"}',
      ),
    );
    fc.assert(
      fc.property(nearBigints, (text) => {
        expect(fromJson(text)).to.deep.equal(reviverParse(text));
      }),
      { numRuns: 500 },
    );
  });

  it("keeps a parsed __proto__ key an own property, never the prototype", () => {
    const v = fromJson<Record<string, unknown>>(
      '{"__proto__":{"$n":"3"},"a":{"__proto__":{"polluted":true}}}',
    );
    expect(Object.getPrototypeOf(v)).to.equal(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(v, "__proto__")?.value).to.equal(3n);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it("refuses a bigint that is not decimal, as the reviver did", () => {
    expect(() => fromJson('{"$n":"12x"}')).to.throw(SyntaxError);
    expect(() => fromJson("{")).to.throw(SyntaxError);
  });
});
