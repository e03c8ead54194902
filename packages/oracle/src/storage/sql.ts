/**
 * The storage oracle's way into the store: a minimal SQL runner both backends hand out
 * (`OracleStore.storageSql()`), so the storage tables have one set of queries. Statements use `?`
 * placeholders (SQLite's); the PostgreSQL runner numbers them ($1, $2, …). Values: text and numbers
 * (bigints are stored as decimal text, so both backends read them back the same way).
 */
export type SqlValue = string | number | null;
export type SqlRow = Record<string, unknown>;

export interface StorageSql {
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** `?` → `$1`, `$2`, … (the storage statements hold no `?` inside literals). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
