/**
 * The oracle API's routes, in one place: each route's method and path template (what the fastify
 * plugins register), a path builder for clients, and the body, query and response types, derived
 * from the JSON schemas the server validates and serialises with (schemas.ts) by json-schema-to-ts,
 * so a type cannot drift from its schema.
 *
 * Browser-safe: no runtime import at all (the schemas come in as types only), so a web app bundles
 * it through `@hexmesh/oracle/api/routes`. The typed client (client.ts) is built on it.
 */
import type { FromSchema, JSONSchema } from "json-schema-to-ts";

import type * as S from "./schemas.js";

/** Every route of the API: method and path template (`:name` is a path parameter). */
export const ROUTES = {
  /** One report `{report}`; rate limited per device key. */
  submitReport: { method: "POST", path: "/v1/reports" },
  /** Up to `limits.batchMax` reports `{reports: [...]}`, answered per report in order. */
  submitReports: { method: "POST", path: "/v1/reports/batch" },
  /** Up to `limits.batchMax` packet receipts `{receipts: [...]}` signed by routers, answered per receipt in order. */
  submitReceipts: { method: "POST", path: "/v1/receipts" },
  /** This oracle's data-transfer settlement of an epoch, with its signature once signed (what peers collect). */
  epochSettlement: { method: "GET", path: "/v1/epochs/:epoch/settlement" },
  /** The current remote entropy. */
  entropy: { method: "GET", path: "/v1/entropy" },
  /**
   * An owner's cumulative amount, what it claimed, and its proof for the live root, or for epoch
   * `?epoch=` (a pending root too, marked `status: "pending"`).
   */
  owner: { method: "GET", path: "/v1/owners/:address" },
  /** An epoch's summary and post status. */
  epoch: { method: "GET", path: "/v1/epochs/:epoch" },
  /**
   * Everything the epoch's root and dataHash commit to (owners with leaf indices, devices, verdict
   * counts), streamed JSON; immutable once computed (ETag, Cache-Control: immutable).
   */
  epochResults: { method: "GET", path: "/v1/epochs/:epoch/results" },
  /** The epoch's canonical encoding (application/octet-stream): keccak256 of the bytes is dataHash. */
  epochEncoding: { method: "GET", path: "/v1/epochs/:epoch/encoding" },
  /** This oracle's EpochRoot signature of an epoch (what peers collect). */
  epochSignature: { method: "GET", path: "/v1/epochs/:epoch/signature" },
  /** A device's verdicts with reasons (`?epoch=&limit=`). */
  deviceResults: { method: "GET", path: "/v1/devices/:keyId/results" },
  /** Stored reports with their receive times, paged (`?from=&to=&offset=&limit=`, Unix ms). */
  inputReports: { method: "GET", path: "/v1/inputs/reports" },
  /** Published entropy (`?from=&to=`, Unix seconds). */
  inputEntropy: { method: "GET", path: "/v1/inputs/entropy" },
  /** Storage retrieval probe results, newest first (`?dataSet=&device=&provider=&limit=`). */
  storageRetrievals: { method: "GET", path: "/v1/storage/retrievals" },
  /** A storage provider's retrieval score (per device and overall) and its latest probe results. */
  storageProvider: { method: "GET", path: "/v1/storage/providers/:address" },
  /** This oracle's signed StorageSuspension proposals after the results of `?day=` (what peers collect). */
  storageSuspensions: { method: "GET", path: "/v1/storage/suspensions" },
  /** Compute jobs as this oracle indexed them, newest first (`?provider=&device=&status=&limit=`). */
  computeJobs: { method: "GET", path: "/v1/compute/jobs" },
  /** This oracle's re-execution checks, newest job first (`?outcome=&limit=`). */
  computeChecks: { method: "GET", path: "/v1/compute/checks" },
  /** This oracle's check of a job, its output probe and its signed FraudVerdicts (what the submitting peer collects). */
  computeVerdicts: { method: "GET", path: "/v1/compute/verdicts/:jobId" },
  /** Liveness. */
  health: { method: "GET", path: "/health" },
  /** Readiness: the store at the current schema, the chain reachable. */
  ready: { method: "GET", path: "/ready" },
} as const;

export type RouteName = keyof typeof ROUTES;

/** The `:name` parameters of a path template. */
export type PathParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | PathParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

export type PathParams<P extends string> = { readonly [K in PathParamNames<P>]: string | number | bigint };

export type QueryValue = string | number | bigint | undefined;

/**
 * A request path from a template: every `:name` replaced by its value (URI-encoded), and a query
 * string of the defined `query` values. `pathTo(ROUTES.owner.path, { address })`.
 */
export function pathTo<P extends string>(
  template: P,
  params: PathParams<P>,
  query: Readonly<Record<string, QueryValue>> = {},
): string {
  const values = params as Readonly<Record<string, string | number | bigint | undefined>>;
  const path = template.replace(/:([A-Za-z][A-Za-z0-9]*)/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`path ${template}: no value for :${name}`);
    return encodeURIComponent(String(v));
  });
  const search = Object.entries(query)
    .filter((e): e is [string, string | number | bigint] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join("&");
  return search === "" ? path : `${path}?${search}`;
}

/** What a request sends: properties with a default may be left out. */
type Sent<T extends JSONSchema> = FromSchema<T, { keepDefaultedPropertiesOptional: true }>;

/** Every error: `{statusCode, error, message, code?}`. */
export type ApiErrorBody = FromSchema<typeof S.ERROR>;

export type SubmitReportBody = FromSchema<typeof S.SUBMIT_ONE_BODY>;
export type SubmitResult = FromSchema<typeof S.SUBMIT_RESULT>;
export type SubmitReportsBody = FromSchema<ReturnType<typeof S.submitBatchBody>>;
export type SubmitReportsResponse = FromSchema<typeof S.SUBMIT_BATCH_RESPONSE>;
export type SubmitReceiptsResponse = FromSchema<typeof S.SUBMIT_RECEIPTS_RESPONSE>;
export type SettlementResponse = FromSchema<typeof S.SETTLEMENT_RESPONSE>;
export type EntropyResponse = FromSchema<typeof S.ENTROPY_RESPONSE>;
export type OwnerParams = FromSchema<typeof S.OWNER_PARAMS>;
export type OwnerQuery = FromSchema<typeof S.OWNER_QUERY>;
export type OwnerResponse = FromSchema<typeof S.OWNER_RESPONSE>;
export type ResultsResponse = FromSchema<typeof S.RESULTS_RESPONSE>;
export type EpochParams = FromSchema<typeof S.EPOCH_PARAMS>;
export type EpochResponse = FromSchema<typeof S.EPOCH_RESPONSE>;
export type SignatureResponse = FromSchema<typeof S.SIGNATURE_RESPONSE>;
export type DeviceParams = FromSchema<typeof S.DEVICE_PARAMS>;
export type DeviceResultsQuery = Sent<typeof S.DEVICE_QUERY>;
export type DeviceResultsResponse = FromSchema<typeof S.DEVICE_RESPONSE>;
export type InputReportsQuery = Sent<typeof S.INPUT_REPORTS_QUERY>;
export type InputEntropyQuery = Pick<InputReportsQuery, "from" | "to">;
export type InputReportsResponse = FromSchema<typeof S.INPUT_REPORTS_RESPONSE>;
export type InputEntropyResponse = FromSchema<typeof S.INPUT_ENTROPY_RESPONSE>;
export type StorageRetrievalsQuery = Sent<typeof S.STORAGE_RETRIEVALS_QUERY>;
export type StorageRetrievalsResponse = FromSchema<typeof S.STORAGE_RETRIEVALS_RESPONSE>;
export type StorageProviderResponse = FromSchema<typeof S.STORAGE_PROVIDER_RESPONSE>;
export type StorageSuspensionsResponse = FromSchema<typeof S.STORAGE_SUSPENSIONS_RESPONSE>;
export type ComputeJobsQuery = Sent<typeof S.COMPUTE_JOBS_QUERY>;
export type ComputeJobsResponse = FromSchema<typeof S.COMPUTE_JOBS_RESPONSE>;
export type ComputeChecksQuery = Sent<typeof S.COMPUTE_CHECKS_QUERY>;
export type ComputeChecksResponse = FromSchema<typeof S.COMPUTE_CHECKS_RESPONSE>;
export type ComputeVerdictsResponse = FromSchema<typeof S.COMPUTE_VERDICT_RESPONSE>;
export type HealthResponse = FromSchema<typeof S.HEALTH_RESPONSE>;

/** Response headers of the results and encoding routes. */
export const RESULT_HEADERS = {
  epoch: "x-hexmesh-epoch",
  root: "x-hexmesh-root",
  dataHash: "x-hexmesh-data-hash",
} as const;
