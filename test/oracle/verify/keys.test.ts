import { randomBytes } from "node:crypto";

import { expect } from "chai";

import { KeyRing } from "@hexmesh/oracle/verify/keys";
import { SignatureChecker } from "@hexmesh/oracle/verify/signatures";
import { keyIdOf, toHex, type DeviceKey, type DeviceSigner } from "@hexmesh/protocol";
import { p256Signer, secp256k1Signer } from "@hexmesh/protocol/node";

const secret = () => new Uint8Array(randomBytes(32));
/** Every third a P-256 key (deterministic and random-nonce signers alike), the rest secp256k1. */
const signers: DeviceSigner[] = Array.from({ length: 60 }, (_, i) =>
  i % 3 === 0
    ? p256Signer(secret(), { nonce: i % 2 === 0 ? "random" : "rfc6979" })
    : secp256k1Signer(secret()),
);
const keys: DeviceKey[] = signers.map((s) => s.key);

describe("oracle / KeyRing (the fleet's keys packed for stage-1 threads)", () => {
  it("finds each key's device index by key id, from objects and from the packed bytes alike", () => {
    for (const ring of [new KeyRing(keys), new KeyRing(KeyRing.pack(keys))]) {
      expect(ring.size).to.equal(keys.length);
      keys.forEach((k, i) => expect(ring.find(keyIdOf(k))).to.equal(i));
      expect(ring.find(toHex(new Uint8Array(randomBytes(20)))), "an unknown key id").to.equal(-1);
    }
  });

  it("skips keys it holds already, and indexes continue after them as keys are added", () => {
    const ring = new KeyRing(keys.slice(0, 10));
    ring.add([keys[3]!, keys[10]!, keys[3]!]);
    ring.add(KeyRing.pack(keys.slice(5, 20)));
    expect(ring.size).to.equal(20);
    keys.slice(0, 20).forEach((k, i) => expect(ring.find(keyIdOf(k))).to.equal(i));
  });

  it("refuses packed bytes that are cut short or name an unknown key type", () => {
    const packed = KeyRing.pack(keys.slice(0, 4)); // key 0 is P-256: 85 bytes, then 21 each
    expect(() => new KeyRing(packed.subarray(0, 50))).to.throw(RangeError, /inside a P-256 point/);
    expect(() => new KeyRing(packed.subarray(0, 85 + 10))).to.throw(RangeError, /inside a key id/);
    const bad = packed.slice();
    bad[85] = 7;
    expect(() => new KeyRing(bad)).to.throw(RangeError, /byte 85 has type 7/);
  });

  it("verifies a device's signature with its packed key as SignatureChecker does with the key object", () => {
    const ring = new KeyRing(KeyRing.pack(keys));
    const checker = new SignatureChecker();
    const digest = new Uint8Array(randomBytes(32));
    signers.forEach((signer, d) => {
      const signature = toHex(signer.sign(digest));
      const other = (d + 1) % keys.length;
      expect(ring.verify(checker, d, digest, signature)).to.equal(true);
      expect(checker.verify(signer.key, digest, signature)).to.equal(true);
      expect(ring.verify(checker, other, digest, signature), "another device's key").to.equal(false);
      const forged = digest.slice();
      forged[0]! ^= 1;
      expect(ring.verify(checker, d, forged, signature), "another digest").to.equal(false);
      expect(checker.verify(signer.key, forged, signature)).to.equal(false);
      expect(
        ring.verify(checker, d, digest, `${signature.slice(0, -2)}` as `0x${string}`),
        "cut short",
      ).to.equal(false);
    });
  });

  it("keeps every key object of a small fleet, few of a fleet past 32,768 P-256 keys, and verifies alike", function () {
    this.timeout(60_000);
    const digest = new Uint8Array(randomBytes(32));
    const signatures = signers.map((s) => toHex(s.sign(digest)));
    const verifiesAll = (ring: KeyRing) =>
      signers.every((_, d) => ring.verify(new SignatureChecker(), d, digest, signatures[d]!));
    const small = new KeyRing(keys);
    expect(verifiesAll(small)).to.equal(true);
    expect(small.cachedKeyObjects).to.equal(keys.filter((k) => k.type === "p256").length);
    // The same keys after 32,768 more P-256 keys (points off the curve: they verify nothing).
    const point = () => toHex(new Uint8Array(randomBytes(32)));
    const many: DeviceKey[] = Array.from({ length: 32_768 }, () => ({
      type: "p256",
      x: point(),
      y: point(),
    }));
    const large = new KeyRing([...keys, ...many]);
    for (let d = keys.length; d < keys.length + 2_000; d++)
      expect(large.verify(new SignatureChecker(), d, digest, signatures[0]!)).to.equal(false);
    expect(large.cachedKeyObjects).to.equal(1_024);
    expect(verifiesAll(large), "made again after they were dropped").to.equal(true);
    expect(verifiesAll(large)).to.equal(true);
    expect(large.cachedKeyObjects).to.equal(1_024);
  });

  it("a P-256 key that is not a point on the curve verifies nothing, and does not throw", () => {
    const offCurve: DeviceKey = {
      type: "p256",
      x: toHex(new Uint8Array(32).fill(1)),
      y: toHex(new Uint8Array(32).fill(2)),
    };
    const ring = new KeyRing([offCurve]);
    const digest = new Uint8Array(32);
    const signature = toHex(signers[0]!.sign(digest));
    expect(ring.verify(new SignatureChecker(), 0, digest, signature)).to.equal(false);
    expect(new SignatureChecker().verify(offCurve, digest, signature)).to.equal(false);
  });
});
