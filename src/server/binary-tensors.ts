import { InvalidInputError } from '../platform/errors.js';

/**
 * Triton's binary tensor data extension (the default of `tritonclient`'s HTTP client): the body is a JSON
 * header of `Inference-Header-Content-Length` bytes followed by raw tensor data, little-endian, row-major,
 * without padding; an input with `parameters.binary_data_size` takes that many bytes of it, in the order
 * of the inputs. BYTES elements are a 4-byte little-endian length and the bytes; BOOL one byte each.
 * Outputs asked for with `parameters.binary_data: true` (or the request's `binary_data_output`) come
 * back the same way. The JSON-only protocol stays as it was: without the header the body is JSON.
 */

/** The header that says how many leading bytes of a body are its JSON. */
export const INFERENCE_HEADER = 'inference-header-content-length';

/** Datatypes that cross in binary form, with their element width (BYTES has none: each element is prefixed). */
const WIDTH: Readonly<Record<string, number>> = { FP32: 4, INT64: 8, BOOL: 1, BYTES: 0 };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Splits a request body into its JSON header and its binary part, and moves each binary input's data into
 * its `data` as JSON elements (numbers, strings, booleans) so that one validation serves both forms.
 * @example readInferenceBody(Buffer.from('{"inputs":[]}'), undefined) // { json: { inputs: [] } }
 */
export function readInferenceBody(body: Buffer, headerLength: string | undefined): { json: unknown } {
  if (headerLength === undefined) return { json: parseJson(body) };
  const length = Number(headerLength);
  if (!/^\d+$/.test(headerLength.trim()) || length > body.length) {
    throw new InvalidInputError(
      `Inference-Header-Content-Length must be an integer 0..${body.length} (the body's length), got ${JSON.stringify(headerLength)}`,
    );
  }
  const json = parseJson(body.subarray(0, length));
  const binary = body.subarray(length);
  const inputs = (json as { inputs?: unknown } | null)?.inputs;
  let offset = 0;
  if (Array.isArray(inputs)) {
    inputs.forEach((input: unknown, k) => {
      const tensor = input as {
        name?: unknown;
        datatype?: unknown;
        shape?: unknown;
        data?: unknown;
        parameters?: { binary_data_size?: unknown };
      } | null;
      const size = tensor?.parameters?.binary_data_size;
      if (tensor === null || typeof tensor !== 'object' || size === undefined) return;
      const name = typeof tensor.name === 'string' ? tensor.name : `inputs[${k}]`;
      if (!Number.isSafeInteger(size) || (size as number) < 0) {
        throw new InvalidInputError(
          `input ${name}: binary_data_size must be a non-negative integer, got ${JSON.stringify(size)}`,
        );
      }
      if (tensor.data !== undefined)
        throw new InvalidInputError(`input ${name} has both "data" and binary_data_size; send one`);
      if (offset + (size as number) > binary.length) {
        throw new InvalidInputError(
          `input ${name}: binary_data_size ${size as number} runs past the binary data (${binary.length - offset} bytes left of ${binary.length})`,
        );
      }
      tensor.data = decodeTensor(
        name,
        String(tensor.datatype),
        tensor.shape,
        binary.subarray(offset, offset + (size as number)),
      );
      offset += size as number;
    });
  }
  if (offset !== binary.length) {
    throw new InvalidInputError(
      `the body holds ${binary.length} bytes of binary tensor data after its ${length}-byte JSON header, but the inputs' binary_data_size add up to ${offset}`,
    );
  }
  return { json };
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    throw new InvalidInputError('request body must be valid JSON');
  }
}

/** One tensor's elements from its bytes, checked against its shape. */
export function decodeTensor(
  name: string,
  datatype: string,
  shape: unknown,
  bytes: Uint8Array,
): Array<number | string | boolean> {
  const width = WIDTH[datatype];
  if (width === undefined)
    throw new InvalidInputError(
      `input ${name}: datatype ${JSON.stringify(datatype)} cannot be sent as binary data here; binary datatypes: ${Object.keys(WIDTH).join(', ')}`,
    );
  const elements =
    Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0)
      ? (shape as number[]).reduce((a, b) => a * b, 1)
      : undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (datatype === 'BYTES') {
    const out: string[] = [];
    let at = 0;
    while (at < bytes.length) {
      if (at + 4 > bytes.length)
        throw new InvalidInputError(
          `input ${name}[${out.length}]: a BYTES element needs a 4-byte length, only ${bytes.length - at} bytes are left`,
        );
      const length = view.getUint32(at, true);
      if (at + 4 + length > bytes.length)
        throw new InvalidInputError(
          `input ${name}[${out.length}]: its length says ${length} bytes, only ${bytes.length - at - 4} are left in binary_data_size`,
        );
      try {
        out.push(utf8.decode(bytes.subarray(at + 4, at + 4 + length)));
      } catch {
        throw new InvalidInputError(`input ${name}[${out.length}] must be UTF-8 text`);
      }
      at += 4 + length;
    }
    if (elements !== undefined && out.length !== elements)
      throw new InvalidInputError(
        `input ${name} of shape ${JSON.stringify(shape)} must hold ${elements} BYTES elements, got ${out.length} in binary_data_size ${bytes.length}`,
      );
    return out;
  }
  if (elements !== undefined && bytes.length !== elements * width) {
    throw new InvalidInputError(
      `input ${name}: binary_data_size must be ${elements * width} (${elements} ${datatype} elements of shape ${JSON.stringify(shape)}), got ${bytes.length}`,
    );
  }
  if (bytes.length % width !== 0)
    throw new InvalidInputError(
      `input ${name}: binary_data_size must be a multiple of ${width} for ${datatype}, got ${bytes.length}`,
    );
  return Array.from({ length: bytes.length / width }, (_, i) => {
    if (datatype === 'FP32') return view.getFloat32(i * width, true);
    if (datatype === 'BOOL') return bytes[i] !== 0;
    const value = view.getBigInt64(i * width, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new InvalidInputError(
        `input ${name}[${i}]: INT64 ${value} is beyond ±2^53, which this gateway cannot hold exactly`,
      );
    }
    return Number(value);
  });
}

/** One tensor's elements as binary data, as `decodeTensor` reads them. */
export function encodeTensor(datatype: string, data: ReadonlyArray<unknown>): Buffer {
  if (datatype === 'BYTES') {
    return Buffer.concat(
      data.map((v) => {
        const text = Buffer.from(String(v), 'utf8');
        const length = Buffer.alloc(4);
        length.writeUInt32LE(text.length);
        return Buffer.concat([length, text]);
      }),
    );
  }
  const width = WIDTH[datatype];
  if (width === undefined) throw new Error(`no binary form for ${datatype}`);
  const out = Buffer.alloc(data.length * width);
  data.forEach((v, i) => {
    if (datatype === 'FP32') out.writeFloatLE(Number(v), i * width);
    else if (datatype === 'BOOL') out[i] = v ? 1 : 0;
    else out.writeBigInt64LE(BigInt(Number(v)), i * width);
  });
  return out;
}

/** Which outputs the request wants in binary form: `binary_data` on the output, else the request's `binary_data_output`. */
export function binaryOutputChoice(json: unknown): (name: string) => boolean {
  const request = (json ?? {}) as { parameters?: { binary_data_output?: unknown }; outputs?: unknown };
  const all = request.parameters?.binary_data_output === true;
  const each = new Map<string, boolean>();
  if (Array.isArray(request.outputs)) {
    for (const o of request.outputs as Array<{ name?: unknown; parameters?: { binary_data?: unknown } } | null>) {
      const flag = o?.parameters?.binary_data;
      if (typeof o?.name === 'string' && typeof flag === 'boolean') each.set(o.name, flag);
    }
  }
  return (name) => each.get(name) ?? all;
}

interface OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
  parameters?: Record<string, unknown>;
}

/**
 * The response body: JSON alone when no output is binary, else the JSON header (binary outputs carry
 * `binary_data_size` instead of `data`) followed by their bytes in output order, with the header's length.
 */
export function encodeInferResponse(
  response: { outputs: OutputTensor[] } & Record<string, unknown>,
  binary: (name: string) => boolean,
): { body: Buffer; headerLength?: number } {
  const parts: Buffer[] = [];
  const outputs = response.outputs.map((o) => {
    if (!binary(o.name)) return o;
    const bytes = encodeTensor(o.datatype, o.data);
    parts.push(bytes);
    const { data: _data, ...rest } = o;
    return { ...rest, parameters: { ...o.parameters, binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({ ...response, outputs }), 'utf8');
  return parts.length === 0
    ? { body: header }
    : { body: Buffer.concat([header, ...parts]), headerLength: header.length };
}
