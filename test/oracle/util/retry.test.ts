/** Bounded retries of RPC round trips (packages/oracle/src/util/retry.ts). */
import { expect } from "chai";

import { isTransient, withRetry } from "@hexmesh/oracle";

describe("oracle / retry", function () {
  it("retries RPC failures with bounded backoff and never retries a revert", async function () {
    let calls = 0;
    const delays: number[] = [];
    const ok = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error("socket hang up"), { code: "NETWORK_ERROR" });
        return "done";
      },
      { attempts: 5, baseDelayMs: 10, sleep: async (ms) => void delays.push(ms) },
    );
    expect(ok).to.equal("done");
    expect(delays).to.deep.equal([10, 20]);

    calls = 0;
    const timeout = Object.assign(new Error("timeout"), { code: "TIMEOUT" });
    let thrown: unknown;
    try {
      await withRetry(
        async () => {
          calls++;
          throw timeout;
        },
        { attempts: 3, baseDelayMs: 1, sleep: async () => {} },
      );
    } catch (e) {
      thrown = e;
    }
    expect(thrown).to.equal(timeout);
    expect(calls).to.equal(3);

    calls = 0;
    const revert = Object.assign(new Error("execution reverted"), { code: "CALL_EXCEPTION" });
    expect(isTransient(revert)).to.equal(false);
    try {
      await withRetry(async () => {
        calls++;
        throw revert;
      });
    } catch {
      // expected
    }
    expect(calls).to.equal(1);
  });
});
