import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";

import { expect } from "chai";

import { buildPieceProofs, pieceRoot, verifyPieceRange } from "@hexmesh/protocol";
import {
  buildServer,
  downloadFile,
  downloadPiece,
  manifestOf,
  PieceStore,
  StorageError,
  uploadFile,
  uploadPiece,
} from "@hexmesh/storage";

const PIECE_SIZE = 40_000; // 1250 leaves: a non-power-of-two leaf count
const MAX_PIECE = 1 << 20;

async function rejection(p: Promise<unknown>): Promise<StorageError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(StorageError);
    return e as StorageError;
  }
  throw new Error("expected a StorageError");
}

/** A raw request (for headers fetch would not let us send or omit). */
function raw(url: string, method: string, headers: http.OutgoingHttpHeaders, body?: Buffer) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
    (resolve, reject) => {
      const req = http.request(url, { method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      req.on("error", reject);
      if (body) req.write(body);
      req.end();
    },
  );
}

describe("@hexmesh/storage provider agent HTTP API (real server on localhost)", function () {
  let dir: string;
  let url: string;
  let store: PieceStore;
  let app: ReturnType<typeof buildServer>;
  let file: string;
  let data: Buffer;

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "hexmesh-storage-api-"));
    store = new PieceStore(path.join(dir, "agent"));
    await store.init();
    app = buildServer({ store, maxPieceBytes: MAX_PIECE });
    url = await app.listen({ host: "127.0.0.1", port: 0 });
    data = randomBytes(2 * PIECE_SIZE + 777); // three pieces, the last one short and leaf-unaligned
    file = path.join(dir, "file.bin");
    await writeFile(file, data);
  });

  after(async function () {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("uploads a file as pieces whose roots are computed locally, and downloads it byte-exact", async function () {
    const manifest = await uploadFile(url, file, PIECE_SIZE);
    expect(manifest.pieces.map((p) => [p.size, p.offset])).to.deep.equal([
      [PIECE_SIZE, 0],
      [PIECE_SIZE, PIECE_SIZE],
      [777, 2 * PIECE_SIZE],
    ]);
    for (const p of manifest.pieces) {
      expect(p.root).to.equal(pieceRoot(data.subarray(p.offset, p.offset + p.size)).root);
      const meta = (await (await fetch(`${url}/v1/pieces/${p.root}`)).json()) as Record<string, unknown>;
      expect(meta).to.deep.include({ root: p.root, size: p.size, leafCount: Math.ceil(p.size / 32) });
    }
    const out = path.join(dir, "out.bin");
    await downloadFile(url, manifest, out);
    expect((await readFile(out)).equals(data)).to.equal(true);
    // Uploading a piece again is harmless: the copy is checked and the stored one kept.
    await uploadPiece(url, file, manifest.pieces[2]!);
  });

  it("answers every leaf's proof from disk exactly as the in-memory builder does", async function () {
    const piece = data.subarray(0, PIECE_SIZE);
    const root = pieceRoot(piece).root;
    const leaves = Array.from({ length: 1250 }, (_, i) => i);
    const fromDisk = await store.proofs(root, leaves);
    expect(fromDisk).to.deep.equal(buildPieceProofs(piece, leaves).proofs);
    // A one-leaf piece (height 0) and a piece of exactly 2^k leaves.
    for (const bytes of [randomBytes(3), randomBytes(32 * 64)]) {
      const r = pieceRoot(bytes);
      await uploadPiece(url, await writeTemp(bytes), { root: r.root, size: bytes.length, offset: 0 });
      const all = Array.from({ length: r.leafCount }, (_, i) => i);
      expect(await store.proofs(r.root, all)).to.deep.equal(buildPieceProofs(bytes, all).proofs);
    }
  });

  async function writeTemp(bytes: Uint8Array): Promise<string> {
    const f = path.join(dir, `piece-${randomBytes(4).toString("hex")}`);
    await writeFile(f, bytes);
    return f;
  }

  it("serves ranges that verify against the root, and refuses bad ranges with bad_range", async function () {
    const manifest = await manifestOf(file, PIECE_SIZE);
    const last = manifest.pieces[2]!; // 777 bytes: 25 leaves
    const first = manifest.pieces[0]!;
    for (const [p, leaf, count] of [
      [first, 0, 64],
      [first, 1249, 1],
      [first, 1200, 50],
      [last, 0, 25],
      [last, 24, 1],
    ] as const) {
      const res = await fetch(`${url}/v1/pieces/${p.root}/range?leaf=${leaf}&count=${count}`);
      expect(res.status).to.equal(200);
      expect(verifyPieceRange(p.root, p.size, leaf, count, await res.json())).to.deep.equal({ ok: true });
    }
    // count defaults to 1
    const one = await fetch(`${url}/v1/pieces/${first.root}/range?leaf=7`);
    expect(verifyPieceRange(first.root, first.size, 7, 1, await one.json())).to.deep.equal({ ok: true });
    for (const q of [
      "leaf=1250",
      "leaf=1249&count=2",
      "leaf=0&count=0",
      "leaf=0&count=65",
      "leaf=abc",
      "",
      "leaf=-1",
    ]) {
      const res = await fetch(`${url}/v1/pieces/${first.root}/range?${q}`);
      expect(res.status, q).to.equal(400);
      expect(((await res.json()) as { error: { code: string } }).error.code, q).to.equal("bad_range");
    }
  });

  it("serves bytes with HTTP Range support", async function () {
    const manifest = await manifestOf(file, PIECE_SIZE);
    const p = manifest.pieces[1]!;
    const whole = await raw(`${url}/v1/pieces/${p.root}/bytes`, "GET", {});
    expect(whole.status).to.equal(200);
    expect(whole.headers["accept-ranges"]).to.equal("bytes");
    expect(whole.body.equals(data.subarray(PIECE_SIZE, 2 * PIECE_SIZE))).to.equal(true);
    const part = await raw(`${url}/v1/pieces/${p.root}/bytes`, "GET", { range: "bytes=100-199" });
    expect(part.status).to.equal(206);
    expect(part.headers["content-range"]).to.equal(`bytes 100-199/${PIECE_SIZE}`);
    expect(part.body.equals(data.subarray(PIECE_SIZE + 100, PIECE_SIZE + 200))).to.equal(true);
    const tail = await raw(`${url}/v1/pieces/${p.root}/bytes`, "GET", { range: "bytes=-10" });
    expect(tail.status).to.equal(206);
    expect(tail.body.equals(data.subarray(2 * PIECE_SIZE - 10, 2 * PIECE_SIZE))).to.equal(true);
    for (const range of [`bytes=${PIECE_SIZE}-`, "bytes=0-1,5-9", "items=0-1"]) {
      const bad = await raw(`${url}/v1/pieces/${p.root}/bytes`, "GET", { range });
      expect(bad.status, range).to.equal(416);
      expect(bad.headers["content-range"]).to.equal(`bytes */${PIECE_SIZE}`);
      expect((JSON.parse(bad.body.toString()) as { error: { code: string } }).error.code).to.equal(
        "bad_byte_range",
      );
    }
  });

  it("refuses a piece whose bytes do not match its root (root_mismatch), keeping nothing", async function () {
    const bytes = randomBytes(5000);
    const wrong = pieceRoot(randomBytes(5000)).root;
    const err = await rejection(
      uploadPiece(url, await writeTemp(bytes), { root: wrong, size: 5000, offset: 0 }),
    );
    expect([err.status, err.code]).to.deep.equal([400, "root_mismatch"]);
    const meta = await fetch(`${url}/v1/pieces/${wrong}`);
    expect(meta.status).to.equal(404);
    expect(((await meta.json()) as { error: { code: string } }).error.code).to.equal("unknown_piece");
    expect(await readdir(path.join(dir, "agent", "incoming"))).to.deep.equal([]);
    expect(existsSync(path.join(dir, "agent", "pieces", wrong))).to.equal(false);
  });

  it("refuses unknown pieces, bad roots, missing lengths, oversized and mis-sized bodies", async function () {
    const unknown = "0x" + "ab".repeat(32);
    for (const suffix of ["", "/range?leaf=0", "/bytes"]) {
      const res = await fetch(`${url}/v1/pieces/${unknown}${suffix}`);
      expect(res.status).to.equal(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal("unknown_piece");
    }
    expect(await (await fetch(`${url}/v1/health`)).json()).to.deep.equal({ ok: true });
    const badRoot = await fetch(`${url}/v1/pieces/0x1234`);
    expect(badRoot.status).to.equal(400);
    expect(((await badRoot.json()) as { error: { code: string } }).error.code).to.equal("bad_root");
    // Chunked: no Content-Length.
    const chunked = await raw(
      `${url}/v1/pieces/${unknown}`,
      "PUT",
      { "transfer-encoding": "chunked" },
      randomBytes(10),
    );
    expect(chunked.status).to.equal(411);
    expect((JSON.parse(chunked.body.toString()) as { error: { code: string } }).error.code).to.equal(
      "length_required",
    );
    const big = await raw(`${url}/v1/pieces/${unknown}`, "PUT", { "content-length": MAX_PIECE + 1 });
    expect(big.status).to.equal(413);
    expect((JSON.parse(big.body.toString()) as { error: { code: string } }).error.code).to.equal(
      "piece_too_large",
    );
    // The store refuses bodies shorter or longer than their declared size.
    const short = await rejection(store.receive(unknown, 100, Readable.from([randomBytes(60)])));
    expect(short.code).to.equal("size_mismatch");
    const long = await rejection(
      store.receive(unknown, 100, Readable.from([randomBytes(60), randomBytes(60)])),
    );
    expect(long.code).to.equal("size_mismatch");
    expect(await readdir(path.join(dir, "agent", "incoming"))).to.deep.equal([]);
  });

  it("download refuses bytes that do not match the root and deletes what it wrote", async function () {
    const bytes = randomBytes(3000);
    const r = pieceRoot(bytes);
    await uploadPiece(url, await writeTemp(bytes), { root: r.root, size: 3000, offset: 0 });
    // The provider's copy rots on disk.
    const stored = await store.dataPath(r.root);
    const rotten = Buffer.from(bytes);
    rotten[1234] = rotten[1234]! ^ 0xff;
    await writeFile(stored, rotten);
    const out = path.join(dir, "rotten.bin");
    const err = await rejection(downloadPiece(url, r.root, out));
    expect(err.code).to.equal("root_mismatch");
    expect(existsSync(out)).to.equal(false);
    const missing = await rejection(downloadPiece(url, "0x" + "cd".repeat(32), out));
    expect([missing.status, missing.code]).to.deep.equal([404, "unknown_piece"]);
    expect(existsSync(out)).to.equal(false);
  });
});
