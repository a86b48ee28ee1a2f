import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/platform/errors.js';
import {
  binaryOutputChoice,
  decodeTensor,
  encodeInferResponse,
  readInferenceBody,
} from '../../src/server/binary-tensors.js';
import { readTritonResponse, tritonRequest } from '../support/triton-request.js';

describe('binary tensor data (Triton extension)', () => {
  it('reads every input of a tritonclient request in order: INT64, FP32, BOOL and BYTES', () => {
    const big = Number.MAX_SAFE_INTEGER;
    const { body, headers } = tritonRequest([
      { name: 'ids', shape: [2, 2], datatype: 'INT64', data: [1, -2, big, -big] },
      { name: 'x', shape: [3], datatype: 'FP32', data: [0.5, -1.25, 3] },
      { name: 'mask', shape: [3], datatype: 'BOOL', data: [true, false, true] },
      { name: 'text', shape: [2], datatype: 'BYTES', data: ['', 'Zürich €'] },
    ]);
    const { json } = readInferenceBody(Buffer.from(body), headers['Inference-Header-Content-Length']);
    const inputs = (json as { inputs: Array<{ name: string; data: unknown[] }>; parameters: unknown }).inputs;
    assert.deepEqual(
      inputs.map((i) => [i.name, i.data]),
      [
        ['ids', [1, -2, big, -big]],
        ['x', [0.5, -1.25, 3]],
        ['mask', [true, false, true]],
        ['text', ['', 'Zürich €']],
      ],
    );
    assert.deepEqual((json as { parameters: unknown }).parameters, { binary_data_output: true });
  });

  it('refuses an INT64 beyond what a JavaScript number holds exactly, rather than round it', () => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64LE(2n ** 53n + 1n);
    assert.throws(
      () => decodeTensor('ids', 'INT64', [1], bytes),
      (e: unknown) => e instanceof GatewayError && /ids\[0\]: INT64 9007199254740993 is beyond/.test(e.message),
    );
    assert.throws(
      () => decodeTensor('ids', 'INT64', [2], bytes),
      /binary_data_size must be 16 \(2 INT64 elements of shape \[2\]\), got 8/,
    );
  });

  it('answers binary outputs as tritonclient reads them, JSON ones in the header, in order', () => {
    const response = {
      model_name: 'm',
      model_version: '1',
      outputs: [
        { name: 'ids', datatype: 'INT64', shape: [2], data: [7, -9] },
        { name: 'p', datatype: 'FP32', shape: [2], data: [0.25, 0.75], parameters: { labels: 'a,b' } },
        { name: 'label', datatype: 'BYTES', shape: [2], data: ['b', 'ñ'] },
        { name: 'flag', datatype: 'BOOL', shape: [2], data: [true, false] },
      ],
    };
    const wanted = binaryOutputChoice({
      parameters: { binary_data_output: true },
      outputs: [{ name: 'p', parameters: { binary_data: false } }, { name: 'label' }],
    });
    const { body, headerLength } = encodeInferResponse(response, wanted);
    assert.ok(headerLength !== undefined);
    const { outputs } = readTritonResponse(body, String(headerLength));
    assert.deepEqual(
      outputs.map((o) => [o.name, o.data, o.parameters?.binary_data_size]),
      [
        ['ids', [7, -9], 16],
        ['p', [0.25, 0.75], undefined],
        ['label', ['b', 'ñ'], 4 + 1 + 4 + 2],
        ['flag', [true, false], 2],
      ],
    );
    assert.equal(outputs[1]!.parameters?.labels, 'a,b');
    const none = encodeInferResponse(response, binaryOutputChoice({}));
    assert.equal(none.headerLength, undefined);
    assert.deepEqual(JSON.parse(none.body.toString()), response);
  });
});
