/** Opening the configured store. */
import { PostgresStore } from "./postgres.js";
import { SqliteStore } from "./sqlite.js";
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
      ? new SqliteStore({ path: config.path })
      : new PostgresStore({
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
export { SqliteStore } from "./sqlite.js";
export { PostgresStore } from "./postgres.js";
