/**
 * The README's one command for the service (`npm run oracle:dev`, without its build step): three
 * oracle processes on the in-process chain reach the same root for epoch 0, one posts it with the
 * others' signatures collected over HTTP, a second post is skipped, and an owner claims with the
 * API's proof.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { expect } from "chai";

import { BIN } from "../../helpers/service.js";

const run = promisify(execFile);

describe("service: npm run oracle:dev (three oracle processes, in-process chain)", function () {
  this.timeout(600_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-dev-test-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("computes one root on all three oracles and posts it once", async function () {
    const { stdout } = await run(
      path.join(BIN, "hardhat"),
      ["run", "--no-compile", "scripts/oracle-dev.ts"],
      {
        env: {
          ...process.env,
          PATH: `${BIN}:${process.env.PATH}`,
          HEXMESH_DEV_ONCE: "1",
          HEXMESH_DEV_DIR: dir,
          HEXMESH_DEV_PORT: "0",
          HEXMESH_DEV_RPC_PORT: "0",
        },
        maxBuffer: 16 << 20,
      },
    );
    const roots = [
      ...stdout.matchAll(/oracle #(\d) computed epoch 0: (\d+)\/(\d+) reports valid, root (0x[0-9a-f]{64})/g),
    ];
    expect(roots.map((m) => m[1])).to.deep.equal(["0", "1", "2"]);
    expect(new Set(roots.map((m) => m[4])).size).to.equal(1);
    expect(Number(roots[0]![2])).to.be.greaterThan(0);
    expect(stdout).to.match(/oracle #1 pulled (\d+) reports from oracle #0/);
    expect(stdout).to.match(/a truncated report got HTTP 400: report refused: not_json/);
    expect(stdout).to.match(/collected signatures over HTTP and posted: posted \(tx 0x[0-9a-f]{64}/);
    expect(stdout).to.contain("posting again: skipped (pending)");
    const claim =
      /cumulative ([0-9.]+) MESH, claimed with the proof from oracle #1; oracle #2 now reports claimed ([0-9.]+), claimable 0/.exec(
        stdout,
      );
    expect(claim?.[1]).to.equal(claim?.[2]);
    expect(stdout).to.contain("done (HEXMESH_DEV_ONCE=1)");
  });
});
