// A PNG encoder for 8-bit RGB images: IHDR, one IDAT holding a zlib stream of "stored" (uncompressed)
// deflate blocks, IEND. Every viewer opens it; the image is small, so compression is not worth the code.

const CRC_TABLE = new StaticArray<u32>(256);
for (let n: u32 = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c;
}

const MAX_STORED: i32 = 65535;

class ByteWriter {
  bytes: Uint8Array;
  length: i32 = 0;
  constructor(capacity: i32) {
    this.bytes = new Uint8Array(capacity);
  }
  u8(value: u32): void {
    this.bytes[this.length++] = <u8>value;
  }
  u16le(value: u32): void {
    this.u8(value & 0xff);
    this.u8((value >>> 8) & 0xff);
  }
  u32be(value: u32): void {
    this.u8(value >>> 24);
    this.u8((value >>> 16) & 0xff);
    this.u8((value >>> 8) & 0xff);
    this.u8(value & 0xff);
  }
  copy(data: Uint8Array, start: i32, end: i32): void {
    this.bytes.set(data.subarray(start, end), this.length);
    this.length += end - start;
  }
}

function crc32(data: Uint8Array, start: i32, end: i32): u32 {
  let c: u32 = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return c ^ 0xffffffff;
}

function adler32(data: Uint8Array): u32 {
  let a: u32 = 1;
  let b: u32 = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

/** Writes a chunk: length, type, data, CRC over type and data. */
function chunk(out: ByteWriter, type: string, data: Uint8Array): void {
  out.u32be(<u32>data.length);
  const typeStart = out.length;
  for (let i = 0; i < 4; i++) out.u8(type.charCodeAt(i));
  out.copy(data, 0, data.length);
  out.u32be(crc32(out.bytes, typeStart, out.length));
}

/** PNG file of a width × height RGB image (`rgb`: rows top to bottom, 3 bytes per pixel). */
export function encodePng(width: i32, height: i32, rgb: Uint8Array): Uint8Array {
  const rowBytes = width * 3;
  // Scanlines, each led by filter type 0 (None).
  const raw = new Uint8Array(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (rowBytes + 1)] = 0;
    raw.set(rgb.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const blocks = raw.length == 0 ? 1 : (raw.length + MAX_STORED - 1) / MAX_STORED;
  const zlib = new ByteWriter(2 + blocks * 5 + raw.length + 4);
  zlib.u8(0x78); // deflate, 32 KiB window
  zlib.u8(0x01); // no preset dictionary, fastest; (0x78 << 8 | 0x01) % 31 == 0
  for (let i = 0; i < blocks; i++) {
    const start = i * MAX_STORED;
    const end = min(start + MAX_STORED, raw.length);
    zlib.u8(i == blocks - 1 ? 1 : 0); // BFINAL on the last block, BTYPE 00 (stored)
    zlib.u16le(<u32>(end - start));
    zlib.u16le(~(<u32>(end - start)) & 0xffff);
    zlib.copy(raw, start, end);
  }
  zlib.u32be(adler32(raw));

  const header = new ByteWriter(13);
  header.u32be(<u32>width);
  header.u32be(<u32>height);
  header.u8(8); // bit depth
  header.u8(2); // colour type: RGB
  header.u8(0); // compression: deflate
  header.u8(0); // filter method 0
  header.u8(0); // no interlace

  const out = new ByteWriter(8 + 25 + 12 + zlib.length + 12);
  const signature: u8[] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  for (let i = 0; i < 8; i++) out.u8(signature[i]);
  chunk(out, "IHDR", header.bytes);
  chunk(out, "IDAT", zlib.bytes.subarray(0, zlib.length));
  chunk(out, "IEND", new Uint8Array(0));
  return out.bytes.subarray(0, out.length);
}
