/**
 * ByteWriter.chunks: chunks appended by reference (the verifier's record, ~100 bytes per report, is
 * not copied while an epoch is committed) give the same bytes as writing them, with writes before
 * and after, at every position in the writer's buffer, and no empty chunk.
 */
import { expect } from "chai";

import { ByteWriter, concatChunks } from "@hexmesh/protocol";

describe("protocol: ByteWriter.chunks (record appended without a copy)", () => {
  const record = [
    Uint8Array.from({ length: 300 }, (_, i) => i % 251),
    new Uint8Array(0),
    Uint8Array.of(7, 8, 9),
  ];

  for (const before of [0, 1, 5, (1 << 20) - 3, 1 << 20]) {
    it(`same bytes as copying, after ${before} bytes written`, () => {
      const write = (w: ByteWriter) => {
        for (let i = 0; i < before; i++) w.u8(i & 0xff);
        return w;
      };
      const copied = write(new ByteWriter());
      for (const c of record) copied.bytes(c);
      copied.u32(0xdeadbeef).u256(5n);
      const linked = write(new ByteWriter()).chunks(record).u32(0xdeadbeef).u256(5n);
      expect(linked.length).to.equal(copied.length);
      const out = linked.finish();
      expect(concatChunks(out)).to.deep.equal(concatChunks(copied.finish()));
      // By reference: the record's chunks are the output's, not copies; no empty chunk.
      expect(out).to.include(record[0]);
      expect(out.every((c) => c.length > 0)).to.equal(true);
    });
  }
});
