// The one error a codec throws for bytes that break the protocol. Engines map it to 08P01 or a MySQL ERR; anything
// else escaping a decoder is a bug (the fuzz tests hold that line).
export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}
