/**
 * Content-encoding decoders that give back, for each compressed piece as it arrived, the bytes it
 * completes: so a stream compressed but flushed per event is still judged event by event.
 * (Node's fetch decompresses transparently and would hide both the encoding and its timing.)
 */
import { setImmediate } from "node:timers/promises";
import zlib from "node:zlib";

/** Decodes one response body incrementally. */
export interface BodyDecoder {
  /** Feeds the next compressed piece; resolves with the plain bytes it released. */
  push(piece: Uint8Array): Promise<Uint8Array>;
  /** Ends the body; resolves with whatever was still held. */
  finish(): Promise<Uint8Array>;
}

const NONE = new Uint8Array(0);

/** The decoder of `identity` (no encoding). */
const IDENTITY: BodyDecoder = {
  push: async (piece) => piece,
  finish: async () => NONE,
};

/** The encodings this Node can decode, as `Content-Encoding` names them. */
export function canDecode(encoding: string): boolean {
  return (
    encoding === "" ||
    encoding === "identity" ||
    encoding === "gzip" ||
    encoding === "x-gzip" ||
    encoding === "deflate" ||
    encoding === "br"
  );
}

/** A decoder for `encoding` (a `Content-Encoding` value, lower-cased), or undefined if unsupported. */
export function bodyDecoder(encoding: string): BodyDecoder | undefined {
  const name = encoding.trim().toLowerCase();
  if (name === "" || name === "identity") return IDENTITY;
  if (name === "gzip" || name === "x-gzip") return zlibDecoder(() => zlib.createGunzip());
  if (name === "br") return zlibDecoder(() => zlib.createBrotliDecompress());
  if (name === "deflate") return deflateDecoder();
  return undefined;
}

// RFC 9110 says "deflate" is zlib-wrapped, but some servers send raw deflate: the first two bytes tell.
function deflateDecoder(): BodyDecoder {
  let inner: BodyDecoder | undefined;
  return {
    push(piece) {
      if (inner === undefined) {
        const [b0 = 0, b1 = 0] = piece;
        const wrapped = (b0 & 0x0f) === 8 && ((b0 << 8) | b1) % 31 === 0;
        inner = zlibDecoder(() => (wrapped ? zlib.createInflate() : zlib.createInflateRaw()));
      }
      return inner.push(piece);
    },
    finish: () => inner?.finish() ?? Promise.resolve(NONE),
  };
}

type Inflater = zlib.Gunzip | zlib.BrotliDecompress | zlib.Inflate | zlib.InflateRaw;

function zlibDecoder(create: () => Inflater): BodyDecoder {
  const z = create();
  let out: Buffer[] = [];
  let failure: Error | undefined;
  z.on("data", (d: Buffer) => out.push(d));
  z.on("error", (e: Error) => {
    failure = e;
  });
  const take = (): Uint8Array => {
    const bytes = out.length === 1 ? (out[0] ?? NONE) : Buffer.concat(out);
    out = [];
    return bytes;
  };
  // Pieces are decoded strictly in order, each flushed, so its output is known before the next.
  let queue: Promise<unknown> = Promise.resolve();
  const run = (step: (done: () => void) => void): Promise<Uint8Array> => {
    const next = queue.then(
      () =>
        new Promise<Uint8Array>((resolve, reject) => {
          if (failure !== undefined) return reject(failure);
          // A corrupt body errors instead of calling back: without this the probe would hang.
          const onError = (e: Error) => reject(e);
          z.once("error", onError);
          step(() => {
            z.off("error", onError);
            // 'data' events of this flush may still be queued behind its callback.
            setImmediate().then(() => (failure === undefined ? resolve(take()) : reject(failure)));
          });
        }),
    );
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    push: (piece) =>
      run((done) => {
        z.write(piece);
        z.flush(done);
      }),
    // 'end' (all output read) rather than end()'s callback ('finish', all input written).
    finish: () =>
      run((done) => {
        z.once("end", done);
        z.once("error", done);
        z.end();
      }),
  };
}
