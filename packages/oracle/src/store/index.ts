/**
 * Opening the configured store. The backends load only when opened, so importing the package does
 * not load node:sqlite or pg (the simulator, for one, only verifies).
 */
import type { OracleStore } from "./types.js";

export type StoreConfig =
  | { readonly backend: "sqlite"; readonly path: string }
  | {
      readonly backend: "postgres";
      readonly url: string;
      readonly maxConnections?: number;
      readonly schema?: string;
    };

/** Opens the store and brings its schema to the current version. */
export async function openStore(config: StoreConfig): Promise<OracleStore> {
  const store: OracleStore =
    config.backend === "sqlite"
      ? new (await import("./sqlite.js")).SqliteStore({ path: config.path })
      : new (await import("./postgres.js")).PostgresStore({
          url: config.url,
          ...(config.maxConnections !== undefined ? { maxConnections: config.maxConnections } : {}),
          ...(config.schema !== undefined ? { schema: config.schema } : {}),
        });
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
