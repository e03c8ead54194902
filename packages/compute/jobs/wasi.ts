// The few WASI (wasi_snapshot_preview1) calls a job needs: read stdin, write stdout/stderr, exit.
// Declared here rather than through a shim so a job imports nothing else: its only imports are these
// calls and the memory the runner gives it (compiled with --importMemory).

@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: u32, iovs: usize, iovsLen: u32, nread: usize): u16;

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: u32, nwritten: usize): u16;

@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;

const STDIN: u32 = 0;
const STDOUT: u32 = 1;
const STDERR: u32 = 2;
const CHUNK: i32 = 65536;

/** All of stdin. */
export function readStdin(): Uint8Array {
  let buffer = new Uint8Array(CHUNK);
  let length = 0;
  const iov = memory.data(8);
  const nread = memory.data(4);
  while (true) {
    if (buffer.length - length < CHUNK) {
      const grown = new Uint8Array(buffer.length * 2);
      grown.set(buffer);
      buffer = grown;
    }
    store<u32>(iov, <u32>(buffer.dataStart + <usize>length));
    store<u32>(iov, <u32>CHUNK, 4);
    const errno = fd_read(STDIN, iov, 1, nread);
    if (errno != 0) fail(3, "cannot read stdin");
    const n = load<u32>(nread);
    if (n == 0) break;
    length += <i32>n;
  }
  return buffer.subarray(0, length);
}

function writeAll(fd: u32, start: usize, length: usize): void {
  const iov = memory.data(8);
  const nwritten = memory.data(4);
  while (length > 0) {
    store<u32>(iov, <u32>start);
    store<u32>(iov, <u32>length, 4);
    if (fd_write(fd, iov, 1, nwritten) != 0) proc_exit(3);
    const n = <usize>load<u32>(nwritten);
    start += n;
    length -= n;
  }
}

/** Writes all of `data` to stdout. */
export function writeStdout(data: Uint8Array): void {
  writeAll(STDOUT, data.dataStart, <usize>data.length);
}

/** Writes `message` and a newline to stderr and exits with `code`. */
export function fail(code: u32, message: string): void {
  const bytes = String.UTF8.encode(message + "\n");
  writeAll(STDERR, changetype<usize>(bytes), <usize>bytes.byteLength);
  proc_exit(code);
}

/** AssemblyScript's abort (a failed assertion, a bad index), routed to stderr and exit code 134. */
@global
export function jobAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  fail(134, "abort: " + (message !== null ? message : "") + " at " + (fileName !== null ? fileName : "") + ":" + line.toString() + ":" + column.toString());
}

/** Little-endian u32 at `offset` of `data`. */
export function u32At(data: Uint8Array, offset: i32): u32 {
  return <u32>data[offset] | (<u32>data[offset + 1] << 8) | (<u32>data[offset + 2] << 16) | (<u32>data[offset + 3] << 24);
}
