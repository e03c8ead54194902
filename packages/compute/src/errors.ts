/** Why a job did not produce a result. */
export type JobErrorCode =
  | "malformed-program" // not WebAssembly, or not a WASI command the runner can bound
  | "time-limit" // still running at its time limit: its worker was terminated
  | "memory-limit" // trapped with its memory at the limit (it could not grow)
  | "trap" // trapped for another reason (unreachable, out-of-bounds access, ...)
  | "exit" // exited with a non-zero code (its stderr is in the message)
  | "output-limit" // wrote more than the output limit
  | "worker-crashed" // the worker thread died (its JavaScript heap limit, or a runner fault)
  | "content-mismatch" // fetched bytes do not hash to the hash they were asked for
  | "not-found" // the store has no content for a hash
  | "malformed-spec"; // the blob named by a specHash is not a 64-byte spec

/** A job that was refused or stopped, with a code a caller can branch on. */
export class JobError extends Error {
  constructor(
    readonly code: JobErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "JobError";
  }
}
