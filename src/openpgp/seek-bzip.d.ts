/** The part of seek-bzip (CommonJS, no bundled types) that decompress.ts uses. */
declare module 'seek-bzip' {
  /** Read byte by byte; with no `eof` method the decoder reads until the stream's own end marker. */
  interface InputStream {
    readByte(): number;
    read(buffer: Uint8Array, offset: number, length: number): number;
  }
  interface OutputStream {
    writeByte(byte: number): void;
  }
  const Bunzip: {
    decode(input: Uint8Array | InputStream, output: OutputStream, multistream?: boolean): void;
  };
  export = Bunzip;
}
