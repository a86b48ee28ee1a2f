/** What the entity model was trained on: every occurrence of the target wrapped as <<target>> (train_entity.py's mark). */
const OPEN = '<<';
const CLOSE = '>>';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The text with every case-insensitive occurrence of `target` marked, as the entity model reads it. The markers
 * touch the words they wrap, so the marked text has the same whitespace-separated words as the original.
 * @example markTarget('Apple gains as Samsung slumps', 'samsung') === 'Apple gains as <<Samsung>> slumps'
 */
export function markTarget(text: string, target: string): string {
  return text.replace(new RegExp(escapeRegExp(target), 'gi'), (m) => `${OPEN}${m}${CLOSE}`);
}

/** A word of a marked text as the caller wrote it. */
export function unmarkWord(word: string): string {
  return word.split(OPEN).join('').split(CLOSE).join('');
}

/** Whether `target` occurs in `text`, case folded. */
export function containsTarget(text: string, target: string): boolean {
  return text.toLowerCase().includes(target.toLowerCase());
}
