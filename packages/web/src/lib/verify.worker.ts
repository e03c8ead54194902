/** The epoch audit off the main thread: a million-owner encoding must not freeze the page. */
import { verifyEpoch, type VerifyRequest } from "./verify";

self.onmessage = (e: MessageEvent<VerifyRequest>) => {
  try {
    self.postMessage({ ok: true, result: verifyEpoch(e.data) });
  } catch (err) {
    self.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
};
