/**
 * @hexmesh/oracle: the coverage oracle service. Verification (one verifier per kind of work behind
 * the protocol's Verifier seam), the chain indexer, EpochRoot signing and posting, claim proofs, the
 * store, the service's epoch steps, the HTTP API and the CLI. See README.md.
 */
export * from "./verify/reasons.js";
export * from "./verify/params.js";
export * from "./verify/signatures.js";
export * from "./verify/prepare.js";
export * from "./verify/table.js";
export { WorkerPoolPreparer, type PoolOptions } from "./verify/pool.js";
export * from "./verify/coverage.js";
export * from "./chain/indexer.js";
export * from "./post/sign.js";
export * from "./post/aggregator.js";
export * from "./util/heap.js";
export * from "./util/retry.js";
export * from "./store/types.js";
export { openStore } from "./store/index.js";
export * from "./service/config.js";
export * from "./service/epochs.js";
export * from "./service/service.js";
export { buildApi, type ApiDeps, type ApiLimits } from "./api/server.js";
export * from "./service/claims.js";
export * from "./service/inputs.js";
export {
  Ingestor,
  toReportInput,
  type IngestLimits,
  type IngestorOptions,
  type RefusalReason,
  type SubmitResult,
} from "./service/ingest.js";
export * from "./service/close.js";
export * from "./service/close-stored.js";
export * from "./service/partitions.js";
export * from "./store/partitions.js";
export * from "./service/keys.js";
export type { Chain, ChainReader, SuiteAddresses } from "./service/chain.js";
export * from "./service/results.js";
export * from "./service/retention.js";
export * from "./watch/audit.js";
export * from "./service/settlement.js";
export * from "./verify/spill.js";
