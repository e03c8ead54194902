import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { expect } from "chai";
import { keccak256, TypedDataEncoder, verifyTypedData, Wallet } from "ethers";

import {
  dataTransferDomain,
  encodePacketReceipt,
  PACKET_RECEIPT_TYPES,
  packetReceiptDigest,
  packetsOf,
  parsePacketReceipt,
  receiptCredits,
  receiptEpoch,
  settlementEntries,
  signPacketReceipt,
  toHex,
  type Hex,
} from "@hexmesh/protocol";
import { ReceiptSigner, secp256k1Signer } from "@hexmesh/protocol/node";

const KEY = "0x" + "42".repeat(32);
const wallet = new Wallet(KEY);
const SETTLEMENT = "0x" + "ab".repeat(20);
const domain = dataTransferDomain(31337n, SETTLEMENT);
const fromHexKey = (k: string) => Uint8Array.from(Buffer.from(k.slice(2), "hex"));
const input = {
  hotspot: 2n ** 255n + 12345n,
  payloadHash: ("0x" + "cd".repeat(32)) as Hex,
  bytes: 51,
  time: 1_767_225_600_000n,
  routerNonce: 7n,
};

describe("packet receipts (@hexmesh/protocol)", function () {
  it("hash like ethers' EIP-712 encoder and are signed by the router's Ethereum key", async function () {
    const signer = secp256k1Signer(fromHexKey(KEY));
    const receipt = signPacketReceipt(signer, domain, input);
    expect(receipt.router).to.equal(wallet.address.toLowerCase());
    const fields = { ...input, router: receipt.router };
    expect(toHex(packetReceiptDigest(domain, fields))).to.equal(
      TypedDataEncoder.hash({ ...domain }, PACKET_RECEIPT_TYPES, fields),
    );
    expect(verifyTypedData({ ...domain }, PACKET_RECEIPT_TYPES, fields, receipt.signature)).to.equal(
      wallet.address,
    );
    // Bound to the chain and the settlement contract.
    const other = packetReceiptDigest(dataTransferDomain(1n, SETTLEMENT), fields);
    expect(toHex(other)).to.not.equal(toHex(packetReceiptDigest(domain, fields)));
    expect(() => signPacketReceipt(signer, domain, { ...input, bytes: 0 })).to.throw(RangeError, /bytes/);
  });

  it("round-trip through the wire form; every malformed field is refused with a code", function () {
    const receipt = signPacketReceipt(secp256k1Signer(fromHexKey(KEY)), domain, input);
    const json = encodePacketReceipt(receipt);
    expect(parsePacketReceipt(JSON.parse(JSON.stringify(json)))).to.deep.equal({ ok: true, receipt });
    const cases: [unknown, string, string | undefined][] = [
      [null, "not_object", undefined],
      [[json], "not_object", undefined],
      [{ ...json, extra: 1 }, "unknown_field", "extra"],
      [{ ...json, signature: undefined }, "bad_type", "signature"],
      [(({ routerNonce: _n, ...rest }) => rest)(json), "missing_field", "routerNonce"],
      [{ ...json, router: json.router.toUpperCase().replace("0X", "0x") }, "bad_hex", "router"],
      [{ ...json, payloadHash: "0x12" }, "bad_hex", "payloadHash"],
      [{ ...json, signature: json.signature.slice(0, 130) }, "bad_hex", "signature"],
      [{ ...json, hotspot: 5 }, "bad_type", "hotspot"],
      [{ ...json, hotspot: "0" }, "out_of_range", "hotspot"],
      [{ ...json, hotspot: "007" }, "bad_type", "hotspot"],
      [{ ...json, hotspot: (2n ** 256n).toString() }, "out_of_range", "hotspot"],
      [{ ...json, time: "1e3" }, "bad_type", "time"],
      [{ ...json, routerNonce: (2n ** 64n).toString() }, "out_of_range", "routerNonce"],
      [{ ...json, bytes: "51" }, "bad_type", "bytes"],
      [{ ...json, bytes: 1.5 }, "bad_type", "bytes"],
      [{ ...json, bytes: 0 }, "out_of_range", "bytes"],
      [{ ...json, bytes: 65_536 }, "out_of_range", "bytes"],
    ];
    for (const [value, code, field] of cases) {
      const parsed = parsePacketReceipt(value);
      expect(parsed.ok, JSON.stringify(value)).to.equal(false);
      if (!parsed.ok) {
        expect(parsed.error.code, JSON.stringify(value)).to.equal(code);
        expect(parsed.error.field).to.equal(field);
      }
    }
  });

  it("price every started 24 bytes, and fall in the epoch of their time", function () {
    expect([1, 24, 25, 48, 49, 255].map(packetsOf)).to.deep.equal([1n, 1n, 2n, 2n, 3n, 11n]);
    expect(receiptCredits(51, 1n)).to.equal(3n);
    expect(receiptCredits(51, 10n)).to.equal(30n);
    const genesis = 1_767_225_600n;
    expect(receiptEpoch(genesis * 1000n - 1n, genesis, 86_400n)).to.equal(null);
    expect(receiptEpoch(genesis * 1000n, genesis, 86_400n)).to.equal(0n);
    expect(receiptEpoch((genesis + 86_400n) * 1000n - 1n, genesis, 86_400n)).to.equal(0n);
    expect(receiptEpoch((genesis + 86_400n) * 1000n, genesis, 86_400n)).to.equal(1n);
  });

  it("sum into settlement entries per (router, provider), sorted, whatever the input order", function () {
    const a = ("0x" + "0a".repeat(20)) as Hex;
    const b = ("0x" + "0b".repeat(20)) as Hex;
    const p = ("0x" + "01".repeat(20)) as Hex;
    const q = ("0x" + "02".repeat(20)) as Hex;
    const receipts = [
      { router: b, provider: p, credits: 2n },
      { router: a, provider: q, credits: 1n },
      { router: a, provider: p, credits: 3n },
      { router: b, provider: p, credits: 5n },
      { router: a, provider: q.toUpperCase().replace("0X", "0x") as Hex, credits: 4n },
    ];
    const expected = [
      { router: a, provider: p, credits: 3n },
      { router: a, provider: q, credits: 5n },
      { router: b, provider: p, credits: 7n },
    ];
    expect(settlementEntries(receipts)).to.deep.equal(expected);
    expect(settlementEntries([...receipts].reverse())).to.deep.equal(expected);
  });

  it("ReceiptSigner numbers receipts with consecutive nonces and hashes the payload", function () {
    const router = new ReceiptSigner(fromHexKey(KEY), domain, 10n);
    const payload = new Uint8Array(30).fill(7);
    const r1 = router.sign({ hotspot: 5n, payload, time: 1n });
    const r2 = router.sign({ hotspot: 5n, payload, time: 2n });
    expect([r1.routerNonce, r2.routerNonce, router.nextNonce]).to.deep.equal([10n, 11n, 12n]);
    expect(r1.bytes).to.equal(30);
    expect(r1.payloadHash).to.equal(keccak256(payload));
    expect(router.router).to.equal(wallet.address.toLowerCase());
  });

  it("hexmesh-router sign-receipts signs a packets file; bad input exits 2 with the usage", async function () {
    this.timeout(30_000);
    const dir = await mkdtemp(path.join(tmpdir(), "hexmesh-router-"));
    const packets = path.join(dir, "packets.jsonl");
    const out = path.join(dir, "receipts.json");
    await writeFile(
      packets,
      [
        '{"hotspot":"123","payload":"0x' + "11".repeat(40) + '","time":"1767225600000"}',
        "",
        '{"hotspot":"124","payload":"0x22","time":"1767225600001"}',
      ].join("\n"),
    );
    const bin = path.resolve("packages/protocol/bin/hexmesh-router.js");
    /** Runs `hexmesh-router sign-receipts` with the chain id, settlement, nonce and packets file given. */
    const signReceipts = (settlement: string, firstNonce: string, extra: string[], key = KEY) =>
      promisify(execFile)(
        process.execPath,
        [
          bin,
          "sign-receipts",
          "--chain-id",
          "31337",
          "--settlement",
          settlement,
          "--first-nonce",
          firstNonce,
          "--in",
          packets,
          ...extra,
        ],
        { env: { ...process.env, HEXMESH_ROUTER_KEY: key } },
      ).catch((e: { code: number; stdout: string; stderr: string }) => e);
    const { stderr } = (await signReceipts(SETTLEMENT, "3", ["--out", out])) as { stderr: string };
    expect(stderr).to.contain(`signed 2 receipts as ${wallet.address.toLowerCase()}; next nonce 5`);
    const body = JSON.parse(await readFile(out, "utf8")) as { receipts: unknown[] };
    const parsed = body.receipts.map((r) => parsePacketReceipt(r));
    expect(
      parsed.map((p) => p.ok && [p.receipt.hotspot, p.receipt.bytes, p.receipt.routerNonce]),
    ).to.deep.equal([
      [123n, 40, 3n],
      [124n, 1, 4n],
    ]);
    for (const p of parsed) {
      if (!p.ok) throw new Error("unparsed");
      const { signature, ...fields } = p.receipt;
      expect(verifyTypedData({ ...domain }, PACKET_RECEIPT_TYPES, fields, signature)).to.equal(
        wallet.address,
      );
    }
    const fail = (await signReceipts("0x12", "0", [])) as { code: number; stderr: string };
    expect(fail.code).to.equal(2);
    expect(fail.stderr).to.contain("--settlement must be an address");
    const noKey = (await signReceipts(SETTLEMENT, "0", [], "")) as { code: number; stderr: string };
    expect(noKey.code).to.equal(2);
    expect((noKey as { stderr: string }).stderr).to.contain("HEXMESH_ROUTER_KEY");
  });
});
