/** Batched calls settle per item; a list field fails as a whole on its first failed item. */
export function throwFirstError<T>(results: ReadonlyArray<T | Error>): T[] {
  const failed = results.find((r): r is Error => r instanceof Error);
  if (failed) throw failed;
  return results as T[];
}
