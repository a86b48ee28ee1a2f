/** Every named output of the graph for one input row, flattened. */
export type TabularOutputs = Readonly<Record<string, Float32Array>>;

/** A batch of fixed-width rows in one buffer: what an [N, width] tensor is made from, and what crosses to a model worker. */
export interface PackedRows {
  /** The valid rows, one after another. */
  readonly data: Float32Array;
  /** Batch positions of the rows in `data`, in order. */
  readonly valid: readonly number[];
  /** One entry per batch position; rows that could not be packed already hold their Error. */
  readonly results: Array<TabularOutputs | Error>;
}

/** Packs rows of `width` features; a row of another width or with a non-finite value gets its own Error and is left out. */
export function packRows(rows: readonly Float32Array[], width: number): PackedRows {
  const results: Array<TabularOutputs | Error> = new Array(rows.length);
  const valid: number[] = [];
  rows.forEach((row, i) => {
    if (row.length !== width) results[i] = new Error(`expected ${width} features, got ${row.length}`);
    else if (!row.every(Number.isFinite)) results[i] = new Error('features must be finite numbers');
    else valid.push(i);
  });
  const data = new Float32Array(valid.length * width);
  valid.forEach((i, r) => data.set(rows[i]!, r * width));
  return { data, valid, results };
}

/** Splits each output of a packed batch back per row, filling `packed.results`. */
export function unpackOutputs(
  packed: PackedRows,
  outputs: Readonly<Record<string, Float32Array>>,
): Array<TabularOutputs | Error> {
  const { valid, results } = packed;
  const entries = Object.entries(outputs);
  valid.forEach((i, r) => {
    results[i] = Object.fromEntries(
      entries.map(([name, data]) => {
        const per = data.length / valid.length;
        // Views, not copies: one buffer per output for the whole batch instead of one allocation per row.
        return [name, data.subarray(r * per, (r + 1) * per)];
      }),
    );
  });
  return results;
}

/** Packs `rows`, runs the valid ones through `runPacked` as one batch (not at all when none is valid), and splits the outputs back. */
export async function runRows(
  rows: readonly Float32Array[],
  width: number,
  runPacked: (data: Float32Array, count: number) => Promise<Readonly<Record<string, Float32Array>>>,
): Promise<Array<TabularOutputs | Error>> {
  const packed = packRows(rows, width);
  if (packed.valid.length === 0) return packed.results;
  return unpackOutputs(packed, await runPacked(packed.data, packed.valid.length));
}
