/**
 * Versioned schema migrations, one list for both backends: the SQL below is the common subset of
 * SQLite and PostgreSQL (TEXT, BIGINT, INTEGER, ON CONFLICT). Each migration runs in its own
 * transaction together with its row in `schema_migrations`, so a crash leaves the schema at a
 * version boundary. Never edit an applied migration: append a new one.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
  /** PostgreSQL's statements when they differ from SQLite's (a collation SQLite does not have). */
  readonly postgres?: readonly string[];
}

/** A list stored in JSON chunks beside its row (chunked.ts): chain index devices, result owners. */
const chunksTable = (name: string) => `CREATE TABLE ${name} (
        work TEXT NOT NULL,
        epoch BIGINT NOT NULL,
        chunk INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (work, epoch, chunk)
      )`;

/** A signed retrieval result's columns after (data_set, day): storage_retrievals and storage_peer_retrievals. */
const RETRIEVAL_RESULT_COLUMNS = `device_id TEXT NOT NULL,
        provider TEXT NOT NULL,
        piece_root TEXT NOT NULL,
        first_leaf TEXT NOT NULL,
        count INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        answer_hash TEXT NOT NULL,
        detail TEXT NOT NULL,
        latency_ms BIGINT NOT NULL,
        probed_at BIGINT NOT NULL,
        signer TEXT NOT NULL,
        signature TEXT NOT NULL,`;

/** Epochs whose raw reports were pruned (retention): the range of receive times deleted. */
const EPOCH_PRUNES = `CREATE TABLE epoch_prunes (
  epoch BIGINT PRIMARY KEY,
  from_ms BIGINT NOT NULL,
  to_ms BIGINT NOT NULL,
  reports BIGINT NOT NULL,
  pruned_at BIGINT NOT NULL
)`;

/**
 * Migration 12: the verdict tables rebuilt, migration 1's verdicts carried over (hex text to bytes;
 * an unknown kind fails the migration). `verdicts` is written in canonical order, so its key
 * (epoch, seq) only ever grows at the end; id and device are bytes (lowercase hex when read) and
 * kind a code (0 malformed, 1 beacon, 2 witness: the verdict record's). `verdicts_by_device`
 * (epoch, device, seq) is filled once per epoch from its stored verdicts sorted by device, so it too
 * grows at the end: the old index (device, epoch) took each verdict at a random place among every
 * epoch's.
 */
function rebuildVerdicts(bytes: "BLOB" | "BYTEA", unhex: (column: string) => string): string[] {
  return [
    `CREATE TABLE verdicts_v12 (
        epoch BIGINT NOT NULL,
        seq INTEGER NOT NULL,
        id ${bytes} NOT NULL,
        device ${bytes},
        kind SMALLINT NOT NULL,
        received_at BIGINT NOT NULL,
        reason TEXT,
        detail TEXT,
        selected SMALLINT NOT NULL,
        units TEXT NOT NULL,
        PRIMARY KEY (epoch, seq)
      )`,
    `INSERT INTO verdicts_v12 (epoch, seq, id, device, kind, received_at, reason, detail, selected, units)
      SELECT epoch, seq, ${unhex("id")}, CASE WHEN device IS NULL THEN NULL ELSE ${unhex("device")} END,
        CASE kind WHEN 'malformed' THEN 0 WHEN 'beacon' THEN 1 WHEN 'witness' THEN 2 END,
        received_at, reason, detail, selected, units
      FROM verdicts ORDER BY epoch, seq`,
    `DROP TABLE verdicts`,
    `ALTER TABLE verdicts_v12 RENAME TO verdicts`,
    `CREATE TABLE verdicts_by_device (
        epoch BIGINT NOT NULL,
        device ${bytes} NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (epoch, device, seq)
      )${bytes === "BLOB" ? " WITHOUT ROWID" : ""}`,
    `INSERT INTO verdicts_by_device (epoch, device, seq)
      SELECT epoch, device, seq FROM verdicts WHERE device IS NOT NULL ORDER BY epoch, device, seq`,
  ];
}

/**
 * Rebuilds `table` with a leading `work` column and the primary key `key`, its rows copied as work
 * 'coverage' (portable: both engines run CREATE, INSERT … SELECT, DROP, ALTER TABLE … RENAME TO).
 */
function rekey(table: string, columns: string, key: string, names: string): string[] {
  return [
    `CREATE TABLE ${table}_v8 (work TEXT NOT NULL, ${columns}, PRIMARY KEY ${key})`,
    `INSERT INTO ${table}_v8 (work, ${names}) SELECT 'coverage', ${names} FROM ${table}`,
    `DROP TABLE ${table}`,
    `ALTER TABLE ${table}_v8 RENAME TO ${table}`,
  ];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "reports, entropy, chain index, epoch results, verdicts, signatures, posts",
    statements: [
      `CREATE TABLE reports (
        hash TEXT PRIMARY KEY,
        raw TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        device TEXT NOT NULL,
        kind TEXT NOT NULL
      )`,
      `CREATE INDEX reports_by_time ON reports (received_at, hash)`,
      `CREATE TABLE entropy (
        published_at BIGINT PRIMARY KEY,
        block_hash TEXT NOT NULL,
        value TEXT NOT NULL
      )`,
      `CREATE TABLE chain_index (
        epoch BIGINT PRIMARY KEY,
        snapshot_block BIGINT NOT NULL,
        data TEXT NOT NULL
      )`,
      `CREATE TABLE epoch_results (
        epoch BIGINT PRIMARY KEY,
        root TEXT NOT NULL,
        total_cumulative TEXT NOT NULL,
        data_hash TEXT NOT NULL,
        snapshot_block BIGINT NOT NULL,
        summary TEXT NOT NULL,
        owners TEXT NOT NULL,
        computed_at BIGINT NOT NULL
      )`,
      `CREATE TABLE verdicts (
        epoch BIGINT NOT NULL,
        seq INTEGER NOT NULL,
        id TEXT NOT NULL,
        device TEXT,
        kind TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        reason TEXT,
        detail TEXT,
        selected INTEGER NOT NULL,
        units TEXT NOT NULL,
        PRIMARY KEY (epoch, seq)
      )`,
      `CREATE INDEX verdicts_by_device ON verdicts (device, epoch)`,
      `CREATE TABLE signatures (
        epoch BIGINT NOT NULL,
        oracle_set_version BIGINT NOT NULL,
        signer TEXT NOT NULL,
        signature TEXT NOT NULL,
        root TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        PRIMARY KEY (epoch, oracle_set_version, signer)
      )`,
      `CREATE TABLE posts (
        epoch BIGINT PRIMARY KEY,
        status TEXT NOT NULL,
        tx_hash TEXT,
        detail TEXT,
        updated_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    // The posts row keeps the post that landed (a later "skipped" or "failed" never replaces it);
    // every attempt, landed or not, is a row of its own.
    name: "post attempts",
    statements: [
      `CREATE TABLE post_attempts (
        epoch BIGINT NOT NULL,
        seq INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        tx_hash TEXT,
        block BIGINT,
        gas_used TEXT,
        detail TEXT,
        attempted_at BIGINT NOT NULL,
        PRIMARY KEY (epoch, seq)
      )`,
    ],
  },
  {
    version: 3,
    name: "epoch closes: the cutoff below which reports are no longer stored",
    statements: [
      `CREATE TABLE epoch_closes (
        epoch BIGINT PRIMARY KEY,
        cutoff BIGINT NOT NULL,
        started_at BIGINT NOT NULL
      )`,
      // One row: ingest transactions read it FOR SHARE, a close that begins takes it FOR UPDATE
      // (PostgreSQL), so every batch commits either wholly before the close begins or after it.
      `CREATE TABLE ingest_gate (id INTEGER PRIMARY KEY)`,
      `INSERT INTO ingest_gate (id) VALUES (1)`,
    ],
  },
  {
    version: 4,
    name: "reports by device and receive time (ingest's per-window cap after a restart)",
    statements: [`CREATE INDEX reports_by_device ON reports (device, received_at)`],
  },
  {
    version: 5,
    // Coverage data transfer: routers' packet receipts (one per router nonce), the epochs whose
    // receipts are closed, each epoch's settlement and the oracles' signatures of it.
    name: "packet receipts, receipt closes, data-transfer settlements and their signatures",
    statements: [
      `CREATE TABLE receipts (
        router TEXT NOT NULL,
        router_nonce TEXT NOT NULL,
        epoch BIGINT NOT NULL,
        hotspot TEXT NOT NULL,
        credits BIGINT NOT NULL,
        raw TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        PRIMARY KEY (router, router_nonce)
      )`,
      `CREATE INDEX receipts_by_epoch ON receipts (epoch, router)`,
      `CREATE TABLE receipt_closes (
        epoch BIGINT PRIMARY KEY,
        closed_at BIGINT NOT NULL
      )`,
      `CREATE TABLE settlements (
        epoch BIGINT PRIMARY KEY,
        entries_hash TEXT NOT NULL,
        data TEXT NOT NULL,
        tx_hash TEXT,
        computed_at BIGINT NOT NULL
      )`,
      `CREATE TABLE settlement_signatures (
        epoch BIGINT NOT NULL,
        oracle_set_version BIGINT NOT NULL,
        signer TEXT NOT NULL,
        signature TEXT NOT NULL,
        entries_hash TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        PRIMARY KEY (epoch, oracle_set_version, signer)
      )`,
    ],
  },
  {
    version: 6,
    // Keyset pages read (received_at, hash) from an index in the order they are sorted by. SQLite's
    // reports_by_time is already in that (binary) order; PostgreSQL sorts hashes COLLATE "C" (the
    // same order on every server), which an index in the database's default collation cannot serve.
    name: "pruned epochs (retention); reports by time in binary hash order for keyset pages (PostgreSQL)",
    statements: [EPOCH_PRUNES],
    postgres: [
      EPOCH_PRUNES,
      `CREATE INDEX reports_by_time_c ON reports (received_at, hash COLLATE "C")`,
      `DROP INDEX reports_by_time`,
    ],
  },
  {
    version: 7,
    // The storage oracle (packages/oracle/src/storage): StorageDeals' data sets, pieces and periods
    // as indexed, the indexer's cursor, and the daily retrieval probes' signed results.
    name: "storage: indexed data sets, pieces and periods; retrieval results",
    statements: [
      `CREATE TABLE storage_cursor (
        name TEXT PRIMARY KEY,
        next_block BIGINT NOT NULL
      )`,
      `CREATE TABLE storage_data_sets (
        id BIGINT PRIMARY KEY,
        client TEXT NOT NULL,
        provider TEXT NOT NULL,
        device_id TEXT NOT NULL,
        status TEXT NOT NULL,
        end_reason TEXT,
        proving_started INTEGER NOT NULL
      )`,
      `CREATE TABLE storage_pieces (
        data_set BIGINT NOT NULL,
        piece_index INTEGER NOT NULL,
        root TEXT NOT NULL,
        size BIGINT NOT NULL,
        first_leaf TEXT NOT NULL,
        PRIMARY KEY (data_set, piece_index)
      )`,
      `CREATE TABLE storage_periods (
        data_set BIGINT NOT NULL,
        period BIGINT NOT NULL,
        seed TEXT,
        challenged_leaves TEXT,
        paid TEXT,
        proven_at BIGINT,
        outcome TEXT,
        fee TEXT,
        PRIMARY KEY (data_set, period)
      )`,
      `CREATE TABLE storage_retrievals (
        data_set BIGINT NOT NULL,
        day BIGINT NOT NULL,
        ${RETRIEVAL_RESULT_COLUMNS}
        PRIMARY KEY (data_set, day)
      )`,
      `CREATE INDEX storage_retrievals_by_device ON storage_retrievals (device_id, day)`,
      `CREATE INDEX storage_retrievals_by_provider ON storage_retrievals (provider, day)`,
    ],
  },
  {
    version: 8,
    // Epochs of every kind of work (coverage, storage, compute) through the one epoch path: chain
    // index snapshots, results, signatures, post status and attempts keyed by (work, epoch). The
    // tables are rebuilt with the new key (SQLite cannot change a primary key in place); existing
    // rows become work 'coverage'. Verdicts stay coverage's (one per report).
    name: "epochs per kind of work: chain index, results, signatures, posts keyed by (work, epoch)",
    statements: [
      ...rekey(
        "chain_index",
        "epoch BIGINT NOT NULL, snapshot_block BIGINT NOT NULL, data TEXT NOT NULL",
        "(work, epoch)",
        "epoch, snapshot_block, data",
      ),
      ...rekey(
        "epoch_results",
        `epoch BIGINT NOT NULL, root TEXT NOT NULL, total_cumulative TEXT NOT NULL, data_hash TEXT NOT NULL,
        snapshot_block BIGINT NOT NULL, summary TEXT NOT NULL, owners TEXT NOT NULL, computed_at BIGINT NOT NULL`,
        "(work, epoch)",
        "epoch, root, total_cumulative, data_hash, snapshot_block, summary, owners, computed_at",
      ),
      ...rekey(
        "signatures",
        `epoch BIGINT NOT NULL, oracle_set_version BIGINT NOT NULL, signer TEXT NOT NULL, signature TEXT NOT NULL,
        root TEXT NOT NULL, received_at BIGINT NOT NULL`,
        "(work, epoch, oracle_set_version, signer)",
        "epoch, oracle_set_version, signer, signature, root, received_at",
      ),
      ...rekey(
        "posts",
        "epoch BIGINT NOT NULL, status TEXT NOT NULL, tx_hash TEXT, detail TEXT, updated_at BIGINT NOT NULL",
        "(work, epoch)",
        "epoch, status, tx_hash, detail, updated_at",
      ),
      ...rekey(
        "post_attempts",
        `epoch BIGINT NOT NULL, seq INTEGER NOT NULL, outcome TEXT NOT NULL, tx_hash TEXT, block BIGINT,
        gas_used TEXT, detail TEXT, attempted_at BIGINT NOT NULL`,
        "(work, epoch, seq)",
        "epoch, seq, outcome, tx_hash, block, gas_used, detail, attempted_at",
      ),
      // The storage oracle set's signed RetrievalResults fetched from peers (own ones stay in
      // storage_retrievals): a storage epoch's scores follow one rule over all of them.
      `CREATE TABLE storage_peer_retrievals (
        data_set BIGINT NOT NULL,
        day BIGINT NOT NULL,
        ${RETRIEVAL_RESULT_COLUMNS}
        PRIMARY KEY (data_set, day, signer)
      )`,
    ],
  },
  {
    version: 9,
    // The compute oracle (packages/oracle/src/compute): ComputeJobs' jobs as indexed, with the block
    // times the epoch inputs are derived from; this oracle's re-execution checks; the fraud verdicts it
    // signed (GET /v1/compute/verdicts/:jobId serves them to the submitter). 8 is the epochs migration.
    name: "compute: indexed jobs, re-execution checks, signed fraud verdicts",
    statements: [
      `CREATE TABLE compute_cursor (
        name TEXT PRIMARY KEY,
        next_block BIGINT NOT NULL,
        block_time BIGINT NOT NULL
      )`,
      `CREATE TABLE compute_jobs (
        id BIGINT PRIMARY KEY,
        customer TEXT NOT NULL,
        spec_hash TEXT NOT NULL,
        device_class INTEGER NOT NULL,
        max_units BIGINT NOT NULL,
        price_per_unit TEXT NOT NULL,
        deadline BIGINT NOT NULL,
        tier INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        directed_to TEXT,
        status TEXT NOT NULL,
        provider TEXT,
        device_id TEXT,
        accepted_at BIGINT,
        result_hash TEXT,
        committed_at BIGINT,
        check_selected INTEGER,
        results_differ INTEGER NOT NULL,
        disputed INTEGER NOT NULL,
        penalty_status TEXT,
        penalty_executable_at BIGINT
      )`,
      `CREATE INDEX compute_jobs_by_created ON compute_jobs (created_at, id)`,
      `CREATE TABLE compute_checks (
        job_id BIGINT PRIMARY KEY,
        outcome TEXT NOT NULL,
        reason TEXT,
        provider TEXT NOT NULL,
        committed_hash TEXT NOT NULL,
        evidence_hash TEXT,
        detail TEXT NOT NULL,
        checked_at BIGINT NOT NULL
      )`,
      `CREATE TABLE compute_verdicts (
        job_id BIGINT NOT NULL,
        oracle_set_version BIGINT NOT NULL,
        provider TEXT NOT NULL,
        reason INTEGER NOT NULL,
        evidence_hash TEXT NOT NULL,
        prover TEXT NOT NULL,
        deadline BIGINT NOT NULL,
        signer TEXT NOT NULL,
        signature TEXT NOT NULL,
        signed_at BIGINT NOT NULL,
        submitted TEXT,
        PRIMARY KEY (job_id, oracle_set_version)
      )`,
    ],
  },
  {
    version: 10,
    // A close split into partitions verified by several worker processes sharing one PostgreSQL
    // (service/partitions.ts): each partition is a slice of the epoch's receive times, claimed with
    // a lease (SELECT ... FOR UPDATE SKIP LOCKED), its stage-1 records written in the transaction
    // that marks it done. SQLite (one machine) verifies in one process.
    name: "close partitions for verification workers (PostgreSQL)",
    statements: [],
    postgres: [
      `CREATE TABLE close_partitions (
        epoch BIGINT NOT NULL,
        part INTEGER NOT NULL,
        from_ms BIGINT NOT NULL,
        to_ms BIGINT NOT NULL,
        claim TEXT,
        worker TEXT,
        lease_until BIGINT,
        attempts INTEGER NOT NULL DEFAULT 0,
        done_at BIGINT,
        reports INTEGER,
        records BYTEA,
        PRIMARY KEY (epoch, part)
      )`,
    ],
  },
  {
    version: 11,
    // The compute oracle's output probes (compute/withheld.ts): for each committed job, whether its
    // output was served by hash (final), the failed fetches counted so far (each at least the
    // configured spacing after the last, chain time) and when the job was judged withheld.
    name: "compute: output probes (withheld outputs)",
    statements: [
      `CREATE TABLE compute_output_probes (
        job_id BIGINT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_failure_at BIGINT,
        served_at BIGINT,
        withheld_at BIGINT,
        evidence_hash TEXT,
        detail TEXT NOT NULL
      )`,
    ],
  },
  {
    version: 12,
    // Storing an epoch's verdicts cost ~26 µs each at 1M and ~32 µs at 4M (bench/verdicts.ts), most
    // of it the random-key inserts into verdicts_by_device (device, epoch). See rebuildVerdicts.
    name: "verdicts keyed and indexed in the order they are written; id and device as bytes, kind as a code",
    statements: rebuildVerdicts("BLOB", (c) => `unhex(substr(${c}, 3))`),
    postgres: rebuildVerdicts("BYTEA", (c) => `decode(substr(${c}, 3), 'hex')`),
  },
  {
    version: 13,
    // A chain index's devices in chunks (chain-index.ts): a 1.44M-device index written as one JSON
    // value was ~521 million characters, within 3% of V8's longest string, and the text alone held
    // ~0.5 GB of heap while it was parsed. device_chunks counts the chunks; NULL marks a row written
    // before, its devices inside data (read as they are).
    name: "chain index devices stored in chunks",
    statements: [
      `ALTER TABLE chain_index ADD COLUMN device_chunks INTEGER`,
      chunksTable("chain_index_devices"),
    ],
  },
  {
    version: 14,
    // A Verified job's second provider (compute/store.ts jobAccepted): its output endpoint is probed
    // beside the first's (compute/withheld.ts), and the API lists it.
    name: "compute: a Verified job's second provider",
    statements: [`ALTER TABLE compute_jobs ADD COLUMN second_provider TEXT`],
  },
  {
    version: 15,
    // The storage epoch whose close first folded each signed retrieval result (StorageStore
    // foldRetrievals): a result that reaches the oracle after a close is left out of that epoch's
    // rebuild and usage reconciliation. Results held before this migration were read by every close
    // since they arrived: -1, folded by every epoch.
    name: "storage: the epoch whose close first folded each retrieval result",
    statements: [
      `ALTER TABLE storage_retrievals ADD COLUMN folded_in BIGINT`,
      `ALTER TABLE storage_peer_retrievals ADD COLUMN folded_in BIGINT`,
      `UPDATE storage_retrievals SET folded_in = -1`,
      `UPDATE storage_peer_retrievals SET folded_in = -1`,
    ],
  },
  {
    version: 16,
    // An epoch result's owners in chunks (chunked.ts), as migration 13 did for a chain index's
    // devices: a 1.44M-owner result was one ~194 MB JSON value, and writing it held ~4 copies of it
    // at once at the end of the close. owner_chunks counts the chunks; NULL marks a row written
    // before, its owners inside its owners column (read as they are).
    name: "epoch result owners stored in chunks",
    statements: [
      `ALTER TABLE epoch_results ADD COLUMN owner_chunks INTEGER`,
      chunksTable("epoch_result_owners"),
    ],
  },
  {
    version: 17,
    // A partition's records (160 bytes a report, written once by a worker, read once by the reducer,
    // then dropped) were pglz-compressed by the server on write and decompressed on read: on the quiet
    // day of the 1.44M-device fleet (1M reports, 2 workers) the server spent 5.8 s of statement time
    // on them, 1.0 s stored as they are (pg_stat_statements).
    name: "close partitions' records stored uncompressed (PostgreSQL)",
    statements: [],
    postgres: [`ALTER TABLE close_partitions ALTER COLUMN records SET STORAGE EXTERNAL`],
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;
