/** The oracle processes' heap headroom (packages/oracle/src/util/heap.ts). */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

import { expect } from "chai";

import {
  ConfigError,
  DEFAULT_HEAP_GROWING_PERCENT,
  heapGrowingPercentOf,
  limitHeapGrowth,
} from "@hexmesh/oracle";

const run = promisify(execFile);

/**
 * A process that holds ~110 MiB live and then makes old-generation garbage (objects that outlive
 * two scavenges, then die), with the heap policy set through the library: its peak heapTotal.
 */
async function peakHeap(percent: number): Promise<{ peak: number; live: number }> {
  const script = `
    import { limitHeapGrowth } from "@hexmesh/oracle";
    limitHeapGrowth(${percent});
    const live = [];
    for (let i = 0; i < 1_000_000; i++) live.push({ a: i, b: [i, i] });
    let peak = 0;
    const ring = new Array(200_000);
    for (let r = 0; r < 40; r++) {
      for (let i = 0; i < ring.length; i++) ring[i] = { a: i, b: [i, r] };
      peak = Math.max(peak, process.memoryUsage().heapTotal);
    }
    globalThis.gc();
    console.log(JSON.stringify({ peak, live: process.memoryUsage().heapUsed, n: live.length }));
  `;
  const { stdout } = await run(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
    cwd: process.cwd(),
  });
  return JSON.parse(stdout) as { peak: number; live: number };
}

describe("oracle / heap headroom", function () {
  it("reads HEXMESH_HEAP_GROWING_PERCENT: unset is the default, 0 leaves V8's choice, anything else is refused", function () {
    expect(heapGrowingPercentOf(undefined)).to.equal(DEFAULT_HEAP_GROWING_PERCENT);
    expect(heapGrowingPercentOf("")).to.equal(DEFAULT_HEAP_GROWING_PERCENT);
    expect(heapGrowingPercentOf("0")).to.equal(0);
    expect(heapGrowingPercentOf("10")).to.equal(10);
    expect(heapGrowingPercentOf("1000")).to.equal(1000);
    for (const bad of ["abc", "-1", "1001", "2.5", " 10", "10%", "0x10", "99999"]) {
      expect(() => heapGrowingPercentOf(bad), bad)
        .to.throw(ConfigError)
        .with.property("message")
        .that.contains("HEXMESH_HEAP_GROWING_PERCENT must be an integer 0..1000");
    }
    for (const bad of [-1, 1001, 2.5, Number.NaN]) {
      expect(() => limitHeapGrowth(bad), String(bad)).to.throw(ConfigError, /heap growing percent/);
    }
    expect(limitHeapGrowth(0)).to.equal(0); // sets nothing in this process
  });

  it("keeps the heap near its live size while old garbage is made, where V8 alone lets it grow far past", async function () {
    this.timeout(60_000);
    const limited = await peakHeap(10);
    const unlimited = await peakHeap(0);
    expect(limited.peak, "heap capped at 1.1 of live").to.be.below(1.8 * limited.live);
    expect(unlimited.peak, "V8's own factor").to.be.above(1.5 * limited.peak);
  });

  it("the CLI refuses a bad HEXMESH_HEAP_GROWING_PERCENT before doing anything (exit 2)", async function () {
    const refused = await run(process.execPath, ["packages/oracle/bin/hexmesh-oracle.js", "--help"], {
      env: { ...process.env, HEXMESH_HEAP_GROWING_PERCENT: "lots" },
    }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused, "exits non-zero").to.not.equal(null);
    expect(refused!.code).to.equal(2);
    expect(refused!.stderr).to.contain(
      "hexmesh-oracle: HEXMESH_HEAP_GROWING_PERCENT must be an integer 0..1000",
    );
  });
});
