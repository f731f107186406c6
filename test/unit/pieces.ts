/**
 * An archive in `chunk`-byte pieces from one reused buffer, overwritten after each piece is
 * taken, as `import` reads a file: code that keeps a view of a piece past its turn fails.
 */
export function* pieces(bytes: Uint8Array, chunk: number): Generator<Uint8Array> {
  const buffer = new Uint8Array(chunk);
  for (let off = 0; off < bytes.length; off += chunk) {
    const piece = bytes.subarray(off, off + chunk);
    buffer.set(piece);
    yield buffer.subarray(0, piece.length);
    buffer.fill(0xee);
  }
}
