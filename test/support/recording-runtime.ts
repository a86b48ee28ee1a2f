/** A fake model runtime that records every batch it is given: proves how callers were batched. */
export class RecordingRuntime<I, O> {
  readonly calls: I[][] = [];
  private gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => {};

  constructor(private readonly answer: (input: I) => O | Error = (input) => input as unknown as O) {}

  /** Holds every run until `release()` (to pile up a queue behind a running batch). */
  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate();
  }

  run = async (inputs: readonly I[]): Promise<Array<O | Error>> => {
    this.calls.push([...inputs]);
    await this.gate;
    return inputs.map(this.answer);
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
