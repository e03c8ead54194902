/**
 * Opening the configured store. The backends load only when opened, so importing the package does
 * not load node:sqlite or pg (the simulator, for one, only verifies).
 */
import { SCHEMA_VERSION } from "./migrations.js";
import type { OracleStore, StoreConfig } from "./types.js";

/** SQLite page cache of a reader (it reads in keyset order: pages are not read twice). */
const READER_CACHE_MIB = 4;

async function connect(config: StoreConfig, reader = false): Promise<OracleStore> {
  return config.backend === "sqlite"
    ? new (await import("./sqlite.js")).SqliteStore({
        path: config.path,
        ...(reader ? { cacheMiB: READER_CACHE_MIB } : {}),
      })
    : new (await import("./postgres.js")).PostgresStore({
        url: config.url,
        ...(config.maxConnections !== undefined ? { maxConnections: config.maxConnections } : {}),
        ...(config.schema !== undefined ? { schema: config.schema } : {}),
      });
}

/**
 * Opens a store that another connection has already migrated, to read it (a close's worker
 * threads): no migration runs, and a store at another schema version is refused.
 */
export async function openStoreReader(config: StoreConfig): Promise<OracleStore> {
  const store = await connect(config, true);
  try {
    const version = await store.schemaVersion();
    if (version !== SCHEMA_VERSION)
      throw new Error(
        `the store at ${config.backend === "sqlite" ? config.path : "the configured PostgreSQL"} is at schema version ${version}, this reader expects ${SCHEMA_VERSION}`,
      );
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  return store;
}

/** Opens the store and brings its schema to the current version. */
export async function openStore(config: StoreConfig): Promise<OracleStore> {
  const store = await connect(config);
  try {
    await store.migrate();
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  return store;
}

export * from "./types.js";
export { MIGRATIONS, SCHEMA_VERSION } from "./migrations.js";
