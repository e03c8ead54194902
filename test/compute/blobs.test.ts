/**
 * The blob server (`PUT/GET /v1/blobs/:hash`) on localhost, through its client and raw HTTP: content
 * is stored only under its own keccak256 and served only if it still hashes to its name; every
 * refusal has its status and code.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import {
  fetchBlob,
  FileContentStore,
  HttpContentStore,
  JobError,
  putBlob,
  startBlobServer,
} from "@hexmesh/compute";
import { contentHash } from "@hexmesh/protocol";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("compute: the blob server", function () {
  this.timeout(30_000);
  let dir: string;
  let server: Awaited<ReturnType<typeof startBlobServer>>;
  const put = (hash: string, body: Uint8Array | string, type = "application/octet-stream") =>
    fetch(`${server.url}/v1/blobs/${hash}`, { method: "PUT", headers: { "content-type": type }, body });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hexmesh-blobs-"));
    server = await startBlobServer({
      dir: path.join(dir, "blobs"),
      host: "127.0.0.1",
      port: 0,
      maxBytes: 1024,
    });
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("stores a blob under its hash (201, then 200) and serves it back", async function () {
    const blob = bytes("a program");
    const hash = contentHash(blob);
    const first = await put(hash, blob);
    expect(first.status).to.equal(201);
    expect(await first.json()).to.deep.equal({ hash, bytes: blob.length });
    expect((await put(hash.toUpperCase().replace("0X", "0x"), blob)).status).to.equal(200);
    const got = await fetch(`${server.url}/v1/blobs/${hash}`);
    expect(got.status).to.equal(200);
    expect(got.headers.get("content-type")).to.equal("application/octet-stream");
    expect(new Uint8Array(await got.arrayBuffer())).to.deep.equal(blob);
    expect(await putBlob(server.url, blob)).to.equal(hash);
    expect(await fetchBlob([server.url], hash)).to.deep.equal(blob);
  });

  it("refuses bodies that do not hash to the path, bad hashes, other content types, and oversize bodies", async function () {
    const blob = bytes("an input");
    const other = contentHash(bytes("something else"));
    const mismatch = await put(other, blob);
    expect(mismatch.status).to.equal(400);
    expect(await mismatch.json()).to.include({ code: "hash-mismatch" });
    const badHash = await put("0x1234", blob);
    expect(badHash.status).to.equal(400);
    expect(await badHash.json()).to.include({ code: "bad-hash" });
    const text = await put(contentHash(blob), "an input", "text/plain");
    expect(text.status).to.equal(415);
    expect(await text.json()).to.include({ code: "bad-content-type" });
    const big = new Uint8Array(1025);
    const tooLarge = await put(contentHash(big), big);
    expect(tooLarge.status).to.equal(413);
    expect(await tooLarge.json()).to.include({ code: "too-large" });
    expect(await readdir(path.join(dir, "blobs")).catch(() => [])).to.deep.equal([]);
  });

  it("answers 404 for an unknown blob, and refuses to serve a file tampered on disk", async function () {
    const missing = await fetch(`${server.url}/v1/blobs/${contentHash(bytes("nobody"))}`);
    expect(missing.status).to.equal(404);
    expect(await missing.json()).to.include({ code: "not-found" });
    const blob = bytes("an output");
    const hash = await putBlob(server.url, blob);
    await writeFile(path.join(dir, "blobs", hash.slice(2)), bytes("tampered"));
    const tampered = await fetch(`${server.url}/v1/blobs/${hash}`);
    expect(tampered.status).to.equal(500);
    expect(await tampered.json()).to.include({ code: "content-mismatch" });
  });

  it("a read-only server (the provider agent's) serves what it holds and refuses every PUT", async function () {
    const blob = bytes("an output");
    const hash = await server.store.put(blob);
    const readOnly = await startBlobServer({
      dir: path.join(dir, "blobs"),
      host: "127.0.0.1",
      port: 0,
      maxBytes: 1024,
      readOnly: true,
    });
    try {
      const refused = await fetch(`${readOnly.url}/v1/blobs/${hash}`, {
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
        body: blob,
      });
      expect(refused.status).to.equal(405);
      expect(await refused.json()).to.include({ code: "read-only" });
      expect(await fetchBlob([readOnly.url], hash)).to.deep.equal(blob);
    } finally {
      await readOnly.close();
    }
  });

  it("the client tries each server in order, caches what it fetched, and names every failure", async function () {
    const blob = bytes("a spec");
    const hash = await putBlob(server.url, blob);
    const down = "http://127.0.0.1:9"; // discard port: nothing listens
    expect(await fetchBlob([down, server.url], hash)).to.deep.equal(blob);
    const cache = new FileContentStore(path.join(dir, "cache"));
    const store = new HttpContentStore([down, server.url], cache);
    expect(await store.get(hash)).to.deep.equal(blob);
    expect(await cache.has(hash)).to.equal(true);
    const absent = contentHash(bytes("absent"));
    try {
      await fetchBlob([down, server.url], absent);
      expect.fail("fetched an absent blob");
    } catch (e) {
      expect(e).to.be.instanceOf(JobError);
      expect((e as JobError).code).to.equal("not-found");
      expect((e as Error).message)
        .to.contain(`${server.url}: 404`)
        .and.to.contain(`${down}: `);
    }
    try {
      await fetchBlob([server.url], hash, { maxBytes: 2 });
      expect.fail("fetched over the limit");
    } catch (e) {
      expect((e as Error).message).to.contain("over the limit 2");
    }
    try {
      await putBlob(down, blob);
      expect.fail("uploaded to nothing");
    } catch (e) {
      expect((e as Error).message).to.contain(`cannot reach the blob server ${down}`);
    }
  });
});
