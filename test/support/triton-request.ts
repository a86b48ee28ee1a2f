/**
 * Inference requests built byte for byte as `tritonclient.http` builds them (Triton's binary tensor data
 * extension, docs/protocol/extension_binary_data.md), and its responses read as it reads them: a test's
 * stand-in for a Python client, written from the documented format rather than from this gateway's code.
 */

export interface ClientInput {
  name: string;
  shape: number[];
  datatype: 'FP32' | 'INT64' | 'BYTES' | 'BOOL';
  data: ReadonlyArray<number | string | boolean>;
}

/** Python's json.dumps with its defaults (", " and ": " separators, non-ASCII escaped), as tritonclient sends the header. */
export function pythonJsonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`)
      .join(', ')}}`;
  }
  if (typeof value === 'string')
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  return JSON.stringify(value);
}

/** numpy's tobytes() of a tensor in little-endian, or serialize_byte_tensor for BYTES (uint32 LE length + bytes each). */
export function tensorBytes(input: ClientInput): Buffer {
  switch (input.datatype) {
    case 'FP32':
      return Buffer.from(new Float32Array(input.data as number[]).buffer);
    case 'INT64':
      return Buffer.from(new BigInt64Array((input.data as number[]).map((v) => BigInt(v))).buffer);
    case 'BOOL':
      return Buffer.from(input.data.map((v) => (v ? 1 : 0)));
    case 'BYTES':
      return Buffer.concat(
        input.data.map((v) => {
          const bytes = Buffer.from(String(v), 'utf8');
          const length = Buffer.alloc(4);
          length.writeUInt32LE(bytes.length);
          return Buffer.concat([length, bytes]);
        }),
      );
  }
}

/**
 * InferenceServerClient.infer's body and headers: every input binary (set_data_from_numpy's default), each
 * requested output with `binary_data` (InferRequestedOutput's default true), or, when none is named, the
 * request's `binary_data_output: true`; then Inference-Header-Content-Length is the JSON's length.
 */
export function tritonRequest(
  inputs: ClientInput[],
  options: { outputs?: Array<{ name: string; binary?: boolean }>; id?: string } = {},
): { body: Uint8Array<ArrayBuffer>; headers: Record<string, string> } {
  const request: Record<string, unknown> = {};
  if (options.id !== undefined) request.id = options.id;
  const binary = inputs.map(tensorBytes);
  request.inputs = inputs.map((input, k) => ({
    name: input.name,
    shape: input.shape,
    datatype: input.datatype,
    parameters: { binary_data_size: binary[k]!.length },
  }));
  if (options.outputs)
    request.outputs = options.outputs.map((o) => ({ name: o.name, parameters: { binary_data: o.binary ?? true } }));
  else request.parameters = { binary_data_output: true };
  const header = Buffer.from(pythonJsonDumps(request), 'utf8');
  return {
    body: new Uint8Array(Buffer.concat([header, ...binary])),
    headers: { 'Inference-Header-Content-Length': String(header.length) },
  };
}

export interface ClientOutput {
  name: string;
  datatype: string;
  shape: number[];
  data: Array<number | string | boolean>;
  parameters?: Record<string, unknown>;
}

/** InferResult.from_response_body: the JSON header, then each binary output's bytes in order, as numpy would read them. */
export function readTritonResponse(
  body: Buffer,
  headerLength: string | null,
): { json: Record<string, unknown>; outputs: ClientOutput[] } {
  const length = headerLength === null ? body.length : Number(headerLength);
  const json = JSON.parse(body.subarray(0, length).toString('utf8')) as Record<string, unknown> & {
    outputs: ClientOutput[];
  };
  let at = length;
  const outputs = json.outputs.map((o) => {
    const size = o.parameters?.binary_data_size as number | undefined;
    if (size === undefined) return o;
    const bytes = body.subarray(at, at + size);
    at += size;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let data: Array<number | string | boolean>;
    if (o.datatype === 'FP32') data = Array.from({ length: size / 4 }, (_, i) => view.getFloat32(i * 4, true));
    else if (o.datatype === 'INT64')
      data = Array.from({ length: size / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
    else if (o.datatype === 'BOOL') data = Array.from(bytes, (b) => b !== 0);
    else {
      data = [];
      for (let p = 0; p < size; ) {
        const n = view.getUint32(p, true);
        data.push(bytes.subarray(p + 4, p + 4 + n).toString('utf8'));
        p += 4 + n;
      }
    }
    return { ...o, data };
  });
  if (at !== body.length) throw new Error(`response has ${body.length - at} bytes after its outputs`);
  return { json, outputs };
}
