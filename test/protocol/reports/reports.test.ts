import crypto from "node:crypto";

import { p256 } from "@noble/curves/nist.js";
import { expect } from "chai";
import { ethers } from "ethers";
import fc from "fast-check";
import secp256k1 from "secp256k1";

import { SignatureChecker } from "@hexmesh/oracle/verify/signatures";
import {
  beaconDigest,
  beaconPayload,
  domainSeparator,
  ethersDomain,
  keyIdOf,
  payloadHash,
  REPORT_TYPES,
  separatorOf,
  signBeacon,
  signWitness,
  toHex,
  witnessDigest,
  type BeaconFields,
  type Hex,
  type WitnessFields,
} from "@hexmesh/protocol";
import { p256Signer, secp256k1Signer } from "@hexmesh/protocol/node/signers";

import { DOMAIN, localEntropy, p256SignerFromSeed, secpSignerFromSeed } from "../../helpers/oracle.js";

const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => toHex(b));
const hex20 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => toHex(b));
const int16 = fc.integer({ min: -32768, max: 32767 });
const uint8 = fc.integer({ min: 0, max: 255 });
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

const beaconFields: fc.Arbitrary<BeaconFields> = fc.record({
  device: hex20,
  remoteEntropy: hex32,
  localEntropy: hex32,
  payload: hex32,
  frequency: uint32,
  channel: uint8,
  dataRate: uint8,
  txPower: int16,
  timestamp: uint64,
});
const witnessFields: fc.Arbitrary<WitnessFields> = fc.record({
  witness: hex20,
  beaconPayloadHash: hex32,
  signal: int16,
  snr: int16,
  frequency: uint32,
  dataRate: uint8,
  timestamp: uint64,
});

describe("oracle / reports: EIP-712 and device keys", function () {
  const separator = separatorOf(DOMAIN);

  it("domain separator equals ethers' (name Hexmesh PoC, version 1, chain id, registry)", function () {
    expect(toHex(domainSeparator(DOMAIN))).to.equal(ethers.TypedDataEncoder.hashDomain(ethersDomain(DOMAIN)));
  });

  it("beacon digests equal ethers' TypedDataEncoder (property, incl. negative tx power)", function () {
    fc.assert(
      fc.property(beaconFields, (b) => {
        const expected = ethers.TypedDataEncoder.hash(
          ethersDomain(DOMAIN),
          { Beacon: [...REPORT_TYPES.Beacon] },
          b,
        );
        expect(toHex(beaconDigest(separator, b))).to.equal(expected);
      }),
      { numRuns: 200 },
    );
  });

  it("witness digests equal ethers' TypedDataEncoder (property, incl. negative signal and SNR)", function () {
    fc.assert(
      fc.property(witnessFields, (w) => {
        const expected = ethers.TypedDataEncoder.hash(
          ethersDomain(DOMAIN),
          { Witness: [...REPORT_TYPES.Witness] },
          w,
        );
        expect(toHex(witnessDigest(separator, w))).to.equal(expected);
      }),
      { numRuns: 200 },
    );
  });

  it("binds chain and registry: another domain gives another digest", function () {
    const b = signBeacon(secpSignerFromSeed("a"), DOMAIN, {
      remoteEntropy: localEntropy("r"),
      localEntropy: localEntropy("l"),
      frequency: 903_900_000,
      channel: 8,
      dataRate: 2,
      txPower: 270,
      timestamp: 1n,
    });
    const other = separatorOf({ ...DOMAIN, chainId: 1n });
    const otherRegistry = separatorOf({ ...DOMAIN, verifyingContract: `0x${"11".repeat(20)}` });
    const d = toHex(beaconDigest(separator, b));
    expect(toHex(beaconDigest(other, b))).to.not.equal(d);
    expect(toHex(beaconDigest(otherRegistry, b))).to.not.equal(d);
  });

  it("secp256k1: key id is the address and signatures match ethers' signTypedData", async function () {
    const pk = crypto.createHash("sha256").update("device").digest();
    const signer = secp256k1Signer(pk);
    const wallet = new ethers.Wallet(toHex(pk));
    expect(signer.keyId).to.equal(wallet.address.toLowerCase());
    const beacon = signBeacon(signer, DOMAIN, {
      remoteEntropy: localEntropy("r"),
      localEntropy: localEntropy("l"),
      frequency: 903_900_000,
      channel: 8,
      dataRate: 2,
      txPower: -15,
      timestamp: 1767225600000n,
    });
    const { type: _t, signature, ...fields } = beacon;
    const expected = await wallet.signTypedData(
      ethersDomain(DOMAIN),
      { Beacon: [...REPORT_TYPES.Beacon] },
      fields,
    );
    expect(signature).to.equal(expected);
    expect(
      ethers
        .verifyTypedData(ethersDomain(DOMAIN), { Beacon: [...REPORT_TYPES.Beacon] }, fields, signature)
        .toLowerCase(),
    ).to.equal(signer.keyId);
  });

  it("secp256k1 checker: accepts the signer, refuses another key, wrong v, high s and garbage", function () {
    const signer = secpSignerFromSeed("a");
    const other = secpSignerFromSeed("b");
    const digest = crypto.randomBytes(32);
    const sig = signer.sign(digest);
    const checker = new SignatureChecker();
    expect(checker.verify(signer.key, digest, toHex(sig))).to.equal(true);
    expect(checker.verify(signer.key, digest, toHex(sig)), "cached point path").to.equal(true);
    expect(checker.verify(other.key, digest, toHex(sig))).to.equal(false);
    expect(new SignatureChecker().verify(other.key, digest, toHex(sig)), "fresh checker").to.equal(false);

    const flippedV = new Uint8Array(sig);
    flippedV[64] = sig[64] === 27 ? 28 : 27;
    expect(checker.verify(signer.key, digest, toHex(flippedV))).to.equal(false);
    const badV = new Uint8Array(sig);
    badV[64] = 1;
    expect(checker.verify(signer.key, digest, toHex(badV))).to.equal(false);

    // (r, n - s, v ^ 1) is the malleable twin: valid for ecrecover, refused by the low-s rule.
    const n = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    const s = BigInt(toHex(sig, 32, 32));
    const twin = new Uint8Array(sig);
    twin.set(ethers.getBytes(ethers.toBeHex(n - s, 32)), 32);
    twin[64] = sig[64] === 27 ? 28 : 27;
    const twinKey = secp256k1.ecdsaRecover(twin.subarray(0, 64), twin[64]! - 27, digest, false);
    expect(ethers.computeAddress(toHex(twinKey)).toLowerCase(), "ecrecover accepts the twin").to.equal(
      signer.keyId,
    );
    expect(checker.verify(signer.key, digest, toHex(twin))).to.equal(false);

    expect(checker.verify(signer.key, digest, toHex(new Uint8Array(65).fill(0)))).to.equal(false);
    expect(checker.verify(signer.key, digest, toHex(sig.subarray(0, 64)))).to.equal(false);
    const otherDigest = crypto.randomBytes(32);
    expect(checker.verify(signer.key, otherDigest, toHex(sig))).to.equal(false);
  });

  it("P-256: key id = last 20 bytes of keccak256(x ‖ y); ES256 over the digest; checker accepts", function () {
    const signer = p256SignerFromSeed("p");
    if (signer.key.type !== "p256") throw new Error("expected a P-256 key");
    const point = ethers.concat([signer.key.x, signer.key.y]);
    expect(signer.keyId).to.equal(ethers.dataSlice(ethers.keccak256(point), 12).toLowerCase());
    expect(keyIdOf(signer.key)).to.equal(signer.keyId);
    const digest = crypto.randomBytes(32);
    const sig = signer.sign(digest);
    expect(sig.length).to.equal(64);
    // independent check with node:crypto from the raw coordinates
    const key = crypto.createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: Buffer.from(ethers.getBytes(signer.key.x)).toString("base64url"),
        y: Buffer.from(ethers.getBytes(signer.key.y)).toString("base64url"),
      },
      format: "jwk",
    });
    expect(crypto.verify("sha256", digest, { key, dsaEncoding: "ieee-p1363" }, sig)).to.equal(true);
    const checker = new SignatureChecker();
    expect(checker.verify(signer.key, digest, toHex(sig))).to.equal(true);
    expect(checker.verify(p256SignerFromSeed("q").key, digest, toHex(sig))).to.equal(false);
    expect(checker.verify(signer.key, crypto.randomBytes(32), toHex(sig))).to.equal(false);
    expect(checker.verify(signer.key, digest, toHex(new Uint8Array([...sig, 27])))).to.equal(false);
  });

  it("P-256: signatures are low-s, the high-s twin is refused", function () {
    const n = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    const signer = p256SignerFromSeed("p");
    const checker = new SignatureChecker();
    for (let i = 0; i < 40; i++) {
      const digest = crypto.randomBytes(32);
      const sig = signer.sign(digest);
      const s = BigInt(toHex(sig, 32, 32));
      expect(s <= n / 2n).to.equal(true);
      const twin = new Uint8Array(sig);
      twin.set(ethers.getBytes(ethers.toBeHex(n - s, 32)), 32);
      expect(checker.verify(signer.key, digest, toHex(twin))).to.equal(false);
    }
  });

  it("P-256 key not on the curve: nothing verifies against it", function () {
    const checker = new SignatureChecker();
    const bogus = { type: "p256", x: `0x${"01".repeat(32)}`, y: `0x${"02".repeat(32)}` } as const;
    expect(checker.verify(bogus, crypto.randomBytes(32), toHex(new Uint8Array(64).fill(1)))).to.equal(false);
  });

  it("signers refuse invalid secrets; P-256 signing is deterministic (RFC 6979)", function () {
    expect(() => p256Signer(new Uint8Array(32))).to.throw(/P-256 secret/);
    expect(() => p256Signer(new Uint8Array(31).fill(1))).to.throw(/P-256 secret/);
    const a = p256SignerFromSeed("p");
    const digest = crypto.randomBytes(32);
    expect(toHex(a.sign(digest))).to.equal(toHex(p256SignerFromSeed("p").sign(digest)));
    // The fast signer (OpenSSL, random k) signs differently each time, always low-s and valid.
    const secret = ethers.getBytes(ethers.id("random-k"));
    const fast = p256Signer(secret, { nonce: "random" });
    expect(fast.key).to.deep.equal(p256Signer(secret).key);
    // The public point (derived with OpenSSL) is @noble/curves' for the same secret.
    const point = p256.getPublicKey(secret, false);
    expect(fast.key).to.deep.equal({ type: "p256", x: toHex(point, 1, 32), y: toHex(point, 33, 32) });
    const checker = new SignatureChecker();
    const n = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const sig = fast.sign(digest);
      expect(BigInt(toHex(sig, 32, 32)) <= n / 2n).to.equal(true);
      expect(checker.verify(fast.key, digest, toHex(sig))).to.equal(true);
      seen.add(toHex(sig));
    }
    expect(seen.size).to.equal(40);
    expect(() => secp256k1Signer(new Uint8Array(32))).to.throw(/private key/);
  });

  it("beacon payload = keccak256(remote ‖ local ‖ device), witnesses cite keccak256(payload)", function () {
    const remote = localEntropy("remote") as Hex;
    const local = localEntropy("local") as Hex;
    const device = secpSignerFromSeed("b").keyId;
    const payload = beaconPayload(remote, local, device);
    expect(payload).to.equal(ethers.keccak256(ethers.concat([remote, local, device])));
    // another device drawing the same entropies transmits another payload
    expect(beaconPayload(remote, local, secpSignerFromSeed("c").keyId)).to.not.equal(payload);
    expect(
      signBeacon(secpSignerFromSeed("b"), DOMAIN, {
        remoteEntropy: remote,
        localEntropy: local,
        frequency: 903_900_000,
        channel: 8,
        dataRate: 2,
        txPower: 270,
        timestamp: 5n,
      }).payload,
    ).to.equal(payload);
    expect(payloadHash(payload)).to.equal(ethers.keccak256(payload));
    const w = signWitness(secpSignerFromSeed("w"), DOMAIN, {
      heardPayload: payload,
      signal: -900,
      snr: 55,
      frequency: 903_900_000,
      dataRate: 2,
      timestamp: 5n,
    });
    expect(w.beaconPayloadHash).to.equal(ethers.keccak256(payload));
  });
});
