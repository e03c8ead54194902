/**
 * Errors with a stable code: the provider agent answers them as `{ error: { code, message } }` with
 * their HTTP status, the CLI prints them and exits 1.
 */
export class StorageError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "StorageError";
  }
}

/** A bad command line, configuration or file (the CLI exits 2). */
export class UsageError extends Error {
  override name = "UsageError";
}
