/**
 * JSON schemas of every request and response of the oracle API (fastify validates and serialises
 * with them; routes.ts derives the TypeScript types from them). Responses list every property they
 * have (`additionalProperties: false`: the serialiser writes only listed properties anyway).
 */
import { MAX_REPORT_LENGTH } from "@hexmesh/protocol";

import { RECEIPT_REFUSALS } from "../service/receipt-reasons.js";

const hex = (bytes: number) => ({ type: "string", pattern: `^0x[0-9a-fA-F]{${2 * bytes}}$` }) as const;
export const ADDRESS = hex(20);
export const BYTES32 = hex(32);
const lowerHex = { type: "string", pattern: "^0x[0-9a-f]*$" } as const;
const decimal = { type: "string", pattern: "^[0-9]+$" } as const;

/** What an EpochRoot commits to, as every epoch answer carries it. */
const EPOCH_ROOT_PROPERTIES = {
  epoch: decimal,
  root: lowerHex,
  totalCumulative: decimal,
  dataHash: lowerHex,
} as const;

/** An epoch's verdicts counted: reports, valid, beacons, witnesses, rejections by reason code. */
const VERDICT_COUNTS = {
  reports: { type: "integer" },
  valid: { type: "integer" },
  beacons: { type: "integer" },
  witnesses: { type: "integer" },
  rejected: { type: "object", additionalProperties: { type: "integer" } },
} as const;

export const ERROR = {
  type: "object",
  additionalProperties: false,
  required: ["statusCode", "error", "message", "code"],
  properties: {
    statusCode: { type: "integer" },
    error: { type: "string" },
    message: { type: "string" },
    code: { type: "string", description: "stable machine-readable code (docs/oracle-service.md)" },
  },
} as const;

/**
 * A report text. Not constrained here: the protocol's parser refuses each bad item with its own
 * code (not_string, too_large, …), so one bad item in a batch refuses only itself; the body limit
 * bounds the size of the whole request.
 */
const reportText = {
  description: `a report's canonical wire text (at most ${MAX_REPORT_LENGTH} characters)`,
} as const;

export const SUBMIT_ONE_BODY = {
  type: "object",
  additionalProperties: false,
  required: ["report"],
  properties: { report: reportText },
} as const;

export const SUBMIT_RESULT = {
  type: "object",
  additionalProperties: false,
  required: ["status"],
  properties: {
    status: { enum: ["accepted", "duplicate", "refused"] },
    hash: lowerHex,
    receivedAt: { type: "integer" },
    reason: { type: "string" },
    code: { type: "string" },
    detail: { type: "string" },
  },
} as const;

export function submitBatchBody(batchMax: number) {
  return {
    type: "object",
    additionalProperties: false,
    required: ["reports"],
    properties: { reports: { type: "array", minItems: 1, maxItems: batchMax, items: reportText } },
  } as const;
}

export const SUBMIT_BATCH_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["accepted", "duplicate", "refused", "results"],
  properties: {
    accepted: { type: "integer" },
    duplicate: { type: "integer" },
    refused: { type: "integer" },
    results: { type: "array", items: SUBMIT_RESULT },
  },
} as const;

export const ENTROPY_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["value", "blockHash", "timestamp", "validUntil"],
  properties: {
    value: lowerHex,
    blockHash: lowerHex,
    timestamp: { type: "integer", description: "publication time, Unix seconds" },
    validUntil: { type: "integer", description: "Unix seconds" },
  },
} as const;

export const OWNER_PARAMS = {
  type: "object",
  required: ["address"],
  properties: { address: ADDRESS },
} as const;

export const OWNER_QUERY = {
  type: "object",
  additionalProperties: false,
  properties: {
    epoch: { type: "string", pattern: "^[0-9]{1,19}$" },
    work: { enum: ["coverage", "storage", "compute"] },
  },
} as const;

export const OWNER_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["owner", "work", "epoch", "root", "status", "cumulative", "claimed", "claimable", "proof"],
  properties: {
    owner: lowerHex,
    work: { enum: ["coverage", "storage", "compute"] },
    epoch: decimal,
    /**
     * The root's state on chain: live (claimable now), pending (inside its challenge window: not
     * claimable until it goes live), unposted (computed, not on chain), superseded (an older live root).
     */
    status: { enum: ["live", "pending", "unposted", "superseded"] },
    root: lowerHex,
    cumulative: decimal,
    claimed: decimal,
    claimable: decimal,
    proof: { type: "array", items: lowerHex },
  },
} as const;

export const EPOCH_PARAMS = {
  type: "object",
  required: ["epoch"],
  properties: { epoch: { type: "string", pattern: "^[0-9]{1,19}$" } },
} as const;

/** `?work=coverage|storage|compute` (default coverage): which kind of work's epoch. */
export const WORK_QUERY = {
  type: "object",
  additionalProperties: false,
  properties: { work: { enum: ["coverage", "storage", "compute"] } },
} as const;

/** By ascending address: credits consumed on its work, their value less the fee (MESH wei), the reward paid. */
const USAGE_PROVIDERS = {
  type: "array",
  items: {
    type: "object",
    additionalProperties: false,
    required: ["provider", "credits", "value", "reward"],
    properties: {
      provider: lowerHex,
      credits: decimal,
      value: decimal,
      reward: decimal,
      /** Storage: the retrieval score (ppm) the value was scaled by; absent: not scaled (results document only). */
      score: { type: "integer", minimum: 0, maximum: 1_000_000 },
    },
  },
} as const;

/** The usage rule's parameters, price and outcome (the stored summary and the results document). */
const USAGE_OUTCOME = {
  shareBps: { type: "integer" },
  feeBps: { type: "integer" },
  /** rewardPrice() at the snapshot block: USD per MESH, 18 decimals ("0": no fresh price, usage unpaid). */
  price: decimal,
  usagePool: decimal,
  totalValue: decimal,
  paid: decimal,
  providers: USAGE_PROVIDERS,
} as const;

export const EPOCH_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: [
    "epoch",
    "root",
    "totalCumulative",
    "dataHash",
    "snapshotBlock",
    "summary",
    "post",
    "postAttempts",
  ],
  properties: {
    ...EPOCH_ROOT_PROPERTIES,
    snapshotBlock: { type: "integer" },
    computedAt: { type: "integer" },
    summary: {
      type: "object",
      additionalProperties: false,
      required: ["reports", "valid", "beacons", "witnesses", "rejected", "devices", "owners", "pool"],
      properties: {
        ...VERDICT_COUNTS,
        devices: { type: "integer" },
        owners: { type: "integer" },
        pool: decimal,
        distributed: decimal,
        dust: decimal,
        /** Only when the epoch has paid usage (docs/credits.md). */
        usage: {
          type: "object",
          additionalProperties: false,
          required: ["shareBps", "feeBps", "price", "usagePool", "totalValue", "paid", "providers"],
          properties: USAGE_OUTCOME,
        },
      },
    },
    post: {
      anyOf: [
        { type: "null" },
        {
          type: "object",
          additionalProperties: false,
          properties: {
            status: { type: "string" },
            txHash: { type: ["string", "null"] },
            detail: { type: ["string", "null"] },
            updatedAt: { type: "integer" },
          },
        },
      ],
    },
    /** Every post attempt, oldest first; `post` is the one that landed once one did. */
    postAttempts: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["seq", "outcome", "txHash", "block", "gasUsed", "detail", "attemptedAt"],
        properties: {
          seq: { type: "integer" },
          outcome: { enum: ["posted", "skipped", "failed"] },
          txHash: { type: ["string", "null"] },
          block: { type: ["integer", "null"] },
          gasUsed: { anyOf: [decimal, { type: "null" }] },
          detail: { type: ["string", "null"] },
          attemptedAt: { type: "integer" },
        },
      },
    },
  },
} as const;

export const SIGNATURE_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["epoch", "signer", "signature", "root", "oracleSetVersion"],
  properties: {
    epoch: decimal,
    signer: lowerHex,
    signature: lowerHex,
    root: lowerHex,
    oracleSetVersion: decimal,
  },
} as const;

export const DEVICE_PARAMS = {
  type: "object",
  required: ["keyId"],
  properties: { keyId: ADDRESS },
} as const;

export const DEVICE_QUERY = {
  type: "object",
  additionalProperties: false,
  properties: {
    epoch: { type: "string", pattern: "^[0-9]{1,19}$" },
    limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
  },
} as const;

export const DEVICE_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["device", "results"],
  properties: {
    device: lowerHex,
    results: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["epoch", "id", "kind", "receivedAt", "valid", "reason", "selected", "units"],
        properties: {
          epoch: decimal,
          id: lowerHex,
          kind: { type: "string" },
          receivedAt: { type: "integer" },
          valid: { type: "boolean" },
          reason: { type: ["string", "null"] },
          detail: { type: ["string", "null"] },
          selected: { type: "boolean" },
          units: decimal,
        },
      },
    },
  },
} as const;

export const RANGE_QUERY = {
  type: "object",
  additionalProperties: false,
  required: ["from", "to"],
  properties: {
    from: { type: "integer", minimum: 0 },
    to: { type: "integer", minimum: 0 },
  },
} as const;

export const INPUT_REPORTS_QUERY = {
  type: "object",
  additionalProperties: false,
  required: ["from", "to"],
  properties: {
    ...RANGE_QUERY.properties,
    /** The previous page's `next` (checked by the route: a malformed one is `bad_cursor`). */
    after: { type: "string", maxLength: 100 },
    limit: { type: "integer", minimum: 1, maximum: 10_000, default: 5_000 },
  },
} as const;

export const INPUT_REPORTS_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["reports", "next"],
  properties: {
    /** Reports in the range: on the first page only (a count is a scan of the range). */
    total: { type: "integer" },
    /** Pass as `after` for the next page; null after the last page. */
    next: { type: ["string", "null"] },
    reports: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["raw", "receivedAt"],
        properties: { raw: { type: "string" }, receivedAt: { type: "integer" } },
      },
    },
  },
} as const;

export const INPUT_ENTROPY_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["entropy"],
  properties: {
    entropy: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["blockHash", "timestamp", "value"],
        properties: { blockHash: lowerHex, timestamp: { type: "integer" }, value: lowerHex },
      },
    },
  },
} as const;

export const HEALTH_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["status"],
  properties: {
    status: { type: "string" },
    checks: { type: "object", additionalProperties: { type: "string" } },
  },
} as const;

/** GET /v1/epochs/:epoch/results: everything the epoch's root and dataHash commit to. */
export const RESULTS_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: [
    "epoch",
    "root",
    "dataHash",
    "totalCumulative",
    "encodingBytes",
    "kind",
    "chainId",
    "registry",
    "epochStart",
    "epochEnd",
    "pool",
    "pools",
    "distributed",
    "dust",
    "verdicts",
    "metricNames",
    "owners",
    "devices",
  ],
  properties: {
    ...EPOCH_ROOT_PROPERTIES,
    /** Length of the canonical encoding (GET /v1/epochs/:epoch/encoding), whose keccak256 is dataHash. */
    encodingBytes: { type: "integer" },
    kind: { type: "string" },
    chainId: decimal,
    registry: lowerHex,
    epochStart: { type: "integer", description: "Unix ms" },
    epochEnd: { type: "integer", description: "Unix ms" },
    pool: decimal,
    pools: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "bps", "amount"],
        properties: { name: { type: "string" }, bps: { type: "integer" }, amount: decimal },
      },
    },
    distributed: decimal,
    dust: decimal,
    verdicts: {
      type: "object",
      additionalProperties: false,
      required: ["reports", "valid", "beacons", "witnesses", "rejected"],
      properties: {
        ...VERDICT_COUNTS,
      },
    },
    /** Names of each device's `metrics` (coverage: beaconUnits, witnessUnits, scale; 18 decimals). */
    metricNames: { type: "array", items: { type: "string" } },
    /** 1 without usage records, 2 with them (the encoding's usage section; `usage` below). */
    encodingVersion: { type: "integer", enum: [1, 2] },
    /**
     * Only with usage records: the usage rule's inputs and outcome (@hexmesh/protocol rewards/usage.ts).
     * `pools` are then the split of (pool - paid), and an owner's `amount` includes its usage reward.
     */
    usage: {
      type: "object",
      additionalProperties: false,
      required: [
        "subnetwork",
        "price",
        "priceBlock",
        "shareBps",
        "feeBps",
        "usagePool",
        "totalValue",
        "paid",
        "records",
        "providers",
      ],
      properties: {
        ...USAGE_OUTCOME,
        subnetwork: lowerHex,
        priceBlock: { type: "integer" },
        /** Every UsageRecorded log of the subnetwork and epoch, in chain order. */
        records: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["block", "logIndex", "provider", "account", "credits"],
            properties: {
              block: { type: "integer" },
              logIndex: { type: "integer" },
              provider: lowerHex,
              account: lowerHex,
              credits: decimal,
            },
          },
        },
      },
    },
    /** By ascending address: the Merkle leaves (owner, cumulative) and each leaf's tree index. */
    owners: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["owner", "leafIndex", "amount", "cumulative"],
        properties: { owner: lowerHex, leafIndex: { type: "integer" }, amount: decimal, cumulative: decimal },
      },
    },
    /** By ascending id: metrics, a weight per pool, and the reward. */
    devices: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["id", "owner", "bonded", "metrics", "weights", "reward"],
        properties: {
          id: lowerHex,
          owner: lowerHex,
          bonded: { type: "boolean" },
          metrics: { type: "array", items: decimal },
          weights: { type: "array", items: decimal },
          reward: decimal,
        },
      },
    },
  },
} as const;

/** A packet receipt's wire form: checked field by field by the protocol's parser (refusals per item). */
export function submitReceiptsBody(batchMax: number) {
  return {
    type: "object",
    additionalProperties: false,
    required: ["receipts"],
    properties: { receipts: { type: "array", minItems: 1, maxItems: batchMax, items: {} } },
  } as const;
}

export const RECEIPT_RESULT = {
  type: "object",
  additionalProperties: false,
  required: ["status"],
  properties: {
    status: { enum: ["accepted", "refused"] },
    epoch: decimal,
    credits: decimal,
    reason: { enum: RECEIPT_REFUSALS },
    detail: { type: "string" },
    field: { type: "string" },
  },
} as const;

export const SUBMIT_RECEIPTS_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["accepted", "refused", "results"],
  properties: {
    accepted: { type: "integer" },
    refused: { type: "integer" },
    results: { type: "array", items: RECEIPT_RESULT },
  },
} as const;

export const SETTLEMENT_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: [
    "epoch",
    "entriesHash",
    "entries",
    "receipts",
    "unknownHotspot",
    "credits",
    "creditsPerPacket",
    "snapshotBlock",
  ],
  properties: {
    epoch: decimal,
    entriesHash: lowerHex,
    entries: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["router", "provider", "credits"],
        properties: { router: lowerHex, provider: lowerHex, credits: decimal },
      },
    },
    receipts: { type: "integer" },
    unknownHotspot: { type: "integer" },
    credits: decimal,
    creditsPerPacket: decimal,
    snapshotBlock: { type: "integer" },
    txHash: { type: "string" },
    signature: {
      type: "object",
      additionalProperties: false,
      required: ["signer", "signature", "oracleSetVersion"],
      properties: { signer: lowerHex, signature: lowerHex, oracleSetVersion: decimal },
    },
  },
} as const;

// ------------------------------------------------------------------ storage (storage/*.ts)

export const STORAGE_RETRIEVALS_QUERY = {
  type: "object",
  additionalProperties: false,
  properties: {
    dataSet: { type: "string", pattern: "^[0-9]{1,15}$" },
    device: { type: "string", pattern: "^[0-9]{1,78}$" },
    provider: ADDRESS,
    limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
  },
} as const;

/** One signed probe result (RetrievalResult's fields, and how the probe went). */
const STORAGE_RETRIEVAL = {
  type: "object",
  additionalProperties: false,
  required: [
    "dataSet",
    "day",
    "device",
    "provider",
    "pieceRoot",
    "firstLeaf",
    "count",
    "outcome",
    "answerHash",
    "detail",
    "latencyMs",
    "probedAt",
    "signer",
    "signature",
  ],
  properties: {
    dataSet: decimal,
    day: decimal,
    device: decimal,
    provider: lowerHex,
    pieceRoot: lowerHex,
    firstLeaf: decimal,
    count: { type: "integer" },
    outcome: { type: "string" },
    answerHash: lowerHex,
    detail: { type: "string" },
    latencyMs: { type: "integer" },
    probedAt: { type: "integer", description: "Unix ms" },
    signer: lowerHex,
    signature: lowerHex,
  },
} as const;

export const STORAGE_RETRIEVALS_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["retrievals"],
  properties: { retrievals: { type: "array", items: STORAGE_RETRIEVAL } },
} as const;

export const STORAGE_PROVIDER_PARAMS = {
  type: "object",
  required: ["address"],
  properties: { address: ADDRESS },
} as const;

export const STORAGE_PROVIDER_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["provider", "score", "devices", "retrievals"],
  properties: {
    provider: lowerHex,
    /** The lowest of its devices' scores, parts per million (what scales its usage reward below 900,000). */
    score: { type: "integer" },
    devices: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["device", "score", "probes", "failures", "scaled", "suspend"],
        properties: {
          device: decimal,
          score: { type: "integer" },
          probes: { type: "integer" },
          failures: { type: "integer" },
          scaled: { type: "boolean" },
          suspend: { type: "boolean" },
        },
      },
    },
    retrievals: { type: "array", items: STORAGE_RETRIEVAL },
  },
} as const;

export const STORAGE_SUSPENSIONS_QUERY = {
  type: "object",
  additionalProperties: false,
  required: ["day"],
  properties: { day: { type: "string", pattern: "^[0-9]{1,15}$" } },
} as const;

export const STORAGE_SUSPENSIONS_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["day", "proposals"],
  properties: {
    day: decimal,
    proposals: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: [
          "deviceId",
          "suspended",
          "nonce",
          "deadline",
          "oracleSetVersion",
          "score",
          "signer",
          "signature",
        ],
        properties: {
          deviceId: decimal,
          suspended: { type: "boolean" },
          nonce: decimal,
          deadline: decimal,
          oracleSetVersion: decimal,
          score: { type: "integer" },
          signer: lowerHex,
          signature: lowerHex,
        },
      },
    },
  },
} as const;

// ------------------------------------------------------------------ compute (compute/*.ts)

const optDecimal = { type: ["string", "null"], pattern: "^[0-9]+$" } as const;
const optHex = { type: ["string", "null"], pattern: "^0x[0-9a-f]*$" } as const;
const optInt = { type: ["integer", "null"] } as const;

export const COMPUTE_JOBS_QUERY = {
  type: "object",
  additionalProperties: false,
  properties: {
    provider: ADDRESS,
    device: { type: "string", pattern: "^[0-9]{1,78}$" },
    status: { enum: ["open", "accepted", "committed", "disputed", "finalized", "refunded"] },
    limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
  },
} as const;

/** One job as the compute oracle indexed it (times: block times, Unix s). */
const COMPUTE_JOB = {
  type: "object",
  additionalProperties: false,
  required: [
    "id",
    "customer",
    "specHash",
    "deviceClass",
    "maxUnits",
    "pricePerUnit",
    "deadline",
    "tier",
    "createdAt",
    "directedTo",
    "status",
    "provider",
    "device",
    "acceptedAt",
    "secondProvider",
    "resultHash",
    "committedAt",
    "checkSelected",
    "resultsDiffer",
    "disputed",
    "penalty",
    "penaltyExecutableAt",
  ],
  properties: {
    id: decimal,
    customer: lowerHex,
    specHash: lowerHex,
    deviceClass: { type: "integer" },
    maxUnits: decimal,
    pricePerUnit: decimal,
    deadline: { type: "integer" },
    tier: { enum: ["standard", "verified"] },
    createdAt: { type: "integer" },
    directedTo: optDecimal,
    status: { type: "string" },
    provider: optHex,
    device: optDecimal,
    acceptedAt: optInt,
    secondProvider: optHex,
    resultHash: optHex,
    committedAt: optInt,
    checkSelected: { type: ["boolean", "null"] },
    resultsDiffer: { type: "boolean" },
    disputed: { type: "boolean" },
    penalty: { type: ["string", "null"] },
    penaltyExecutableAt: optInt,
  },
} as const;

export const COMPUTE_JOBS_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["jobs"],
  properties: { jobs: { type: "array", items: COMPUTE_JOB } },
} as const;

export const COMPUTE_CHECKS_QUERY = {
  type: "object",
  additionalProperties: false,
  properties: {
    outcome: { enum: ["match", "fraud", "inconclusive"] },
    limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
  },
} as const;

/** One re-execution check by this oracle (reason: CHECK_REASONS of compute/check.ts). */
const COMPUTE_CHECK = {
  type: "object",
  additionalProperties: false,
  required: [
    "jobId",
    "outcome",
    "reason",
    "provider",
    "committedHash",
    "evidenceHash",
    "detail",
    "checkedAt",
  ],
  properties: {
    jobId: decimal,
    outcome: { enum: ["match", "fraud", "inconclusive"] },
    reason: { type: ["string", "null"] },
    provider: lowerHex,
    committedHash: lowerHex,
    evidenceHash: optHex,
    detail: { type: "string" },
    checkedAt: { type: "integer", description: "Unix ms" },
  },
} as const;

export const COMPUTE_CHECKS_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["checks"],
  properties: { checks: { type: "array", items: COMPUTE_CHECK } },
} as const;

export const COMPUTE_VERDICT_PARAMS = {
  type: "object",
  required: ["jobId"],
  properties: { jobId: { type: "string", pattern: "^[0-9]{1,78}$" } },
} as const;

/** This oracle's check of a job and its signed FraudVerdicts (one per oracle set): what peers collect. */
/** This oracle's probes of a job's output (compute/withheld.ts); times are chain time, Unix s. */
const COMPUTE_PROBE = {
  type: "object",
  additionalProperties: false,
  required: ["failures", "lastFailureAt", "servedAt", "withheldAt", "evidenceHash", "detail"],
  properties: {
    failures: { type: "integer" },
    lastFailureAt: { type: ["integer", "null"] },
    servedAt: { type: ["integer", "null"] },
    withheldAt: { type: ["integer", "null"] },
    evidenceHash: { type: ["string", "null"] },
    detail: { type: "string" },
  },
} as const;

export const COMPUTE_VERDICT_RESPONSE = {
  type: "object",
  additionalProperties: false,
  required: ["jobId", "check", "probe", "verdicts"],
  properties: {
    jobId: decimal,
    check: { oneOf: [COMPUTE_CHECK, { type: "null" }] },
    probe: { oneOf: [COMPUTE_PROBE, { type: "null" }] },
    verdicts: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: [
          "jobId",
          "provider",
          "reason",
          "evidenceHash",
          "prover",
          "oracleSetVersion",
          "deadline",
          "signer",
          "signature",
        ],
        properties: {
          jobId: decimal,
          provider: lowerHex,
          reason: { type: "integer" },
          evidenceHash: lowerHex,
          prover: lowerHex,
          oracleSetVersion: decimal,
          deadline: decimal,
          signer: lowerHex,
          signature: lowerHex,
        },
      },
    },
  },
} as const;
