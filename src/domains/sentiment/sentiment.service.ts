import type { ModelIdentity } from '../../runtime/model-identity.js';
import { cachedMany, digest, type AnswerCache, type AnswerCodec } from '../../platform/answer-cache.js';
import { assertListSize, InvalidInputError, ModelUnavailableError } from '../../platform/errors.js';
import type { SubmitAs } from '../../runtime/dynamic-batcher.js';
import type { InferenceModel } from '../../runtime/model-registry.js';
import type { TextClassification } from '../../runtime/transformers-runtime.js';
import {
  listSizeProblem,
  nameListProblem,
  nameProblem,
  normalizeSymbol,
  refuse,
  symbolListProblem,
  symbolProblem,
  textProblem,
} from '../market-rules.js';
import { containsTarget, markTarget } from './target-markers.js';

export type SentimentLabelName = 'POSITIVE' | 'NEGATIVE' | 'NEUTRAL';

export interface SentimentPrediction {
  readonly text: string;
  readonly label: SentimentLabelName;
  /** Probability of `label`. */
  readonly score: number;
  readonly scores: ReadonlyArray<{ label: SentimentLabelName; probability: number }>;
  readonly truncated: boolean;
  readonly model: ModelIdentity;
}

/** One word's pull on the explained label (occlusion: the label's probability with and without the word). */
export interface WordWeight {
  readonly word: string;
  /** 0-based index of the word among the text's whitespace-separated words. */
  readonly position: number;
  /** P(label | text) - P(label | text without this word): > 0 the word pushed towards the label. */
  readonly weight: number;
}

export interface SentimentExplanation {
  readonly label: SentimentLabelName;
  /** Every considered word, strongest pull (largest |weight|) first. */
  readonly words: readonly WordWeight[];
  readonly wordsConsidered: number;
  /** The text had more words than are occluded; only the first `maxWords` were. */
  readonly truncated: boolean;
  readonly model: ModelIdentity;
}

/**
 * Bounds on explanations: each considered word is one more text through the model, so a text and its
 * (at most maxWords) variants fit one batch of the model's 64, and a request explains at most maxTexts texts.
 */
export const EXPLANATION_LIMITS = { maxWords: 48, maxTop: 20, maxTexts: 32 } as const;

/** The text with each of its first `maxWords` words left out in turn (words are whitespace-separated). */
export function occlusionVariants(text: string, maxWords: number = EXPLANATION_LIMITS.maxWords) {
  const words = text.trim().split(/\s+/);
  const considered = words.slice(0, maxWords);
  const variants = considered.map((_, i) => words.filter((__, k) => k !== i).join(' '));
  return { words: considered, variants, truncated: words.length > considered.length };
}

export interface SentimentLimits {
  readonly maxTexts: number;
  readonly maxTextLength: number;
}

/** The gateway's models and the public hub models name classes differently; all map to three labels. */
const LABEL_NAMES: Record<string, SentimentLabelName> = {
  positive: 'POSITIVE',
  pos: 'POSITIVE',
  bullish: 'POSITIVE',
  negative: 'NEGATIVE',
  neg: 'NEGATIVE',
  bearish: 'NEGATIVE',
  neutral: 'NEUTRAL',
  neu: 'NEUTRAL',
};

/**
 * Maps a model's label name (from its config's id2label) to the API's labels.
 * Generic `LABEL_0..2` names follow the common negative/neutral/positive order of 3-class sentiment models.
 * @example normalizeSentimentLabel('Bullish') === 'POSITIVE'
 */
export function normalizeSentimentLabel(name: string, index: number, count: number): SentimentLabelName | undefined {
  const known = LABEL_NAMES[name.trim().toLowerCase()];
  if (known) return known;
  if (/^label_\d+$/i.test(name) && count === 3) return (['NEGATIVE', 'NEUTRAL', 'POSITIVE'] as const)[index];
  return undefined;
}

/** A classifier's output: a few probabilities and a flag, shared through Redis as a JSON array. */
const CLASSIFICATION_CODEC: AnswerCodec<TextClassification> = {
  size: (v) => 64 + 16 * v.probabilities.length,
  encode: (v) => JSON.stringify([v.truncated ? 1 : 0, ...v.probabilities]),
  decode: (text) => {
    const [truncated, ...probabilities] = JSON.parse(text) as unknown[];
    if (probabilities.length < 2 || !probabilities.every((p) => typeof p === 'number'))
      throw new Error('not a classification');
    return { truncated: truncated === 1, probabilities: probabilities as number[] };
  },
};

/** Financial-text sentiment: input bounds, batched classification, label mapping. */
export class SentimentService {
  constructor(
    private readonly model: () => InferenceModel<string, TextClassification>,
    readonly limits: SentimentLimits,
    /** Cached model outputs, per artefact hash and text (explanations are not: each compares texts of one batch). */
    private readonly cache?: AnswerCache,
  ) {}

  /** Rejects the whole list when any text is out of bounds, naming the first bad index. */
  validateTexts(texts: readonly string[], field = 'texts'): void {
    assertListSize(field, texts.length, this.limits.maxTexts);
    texts.forEach((text, i) => this.validateText(text, `${field}[${i}]`));
  }

  validateText(text: string, field: string, maxLength = this.limits.maxTextLength): void {
    refuse(field, textProblem(text, maxLength));
  }

  /** The model's labels in the API's names, or a ModelUnavailableError when they do not map. */
  private labelsOf(model: InferenceModel<string, TextClassification>): SentimentLabelName[] {
    const labels = model.labels.map((l, i) => normalizeSentimentLabel(l, i, model.labels.length));
    if (labels.some((l) => l === undefined) || new Set(labels).size !== 3) {
      throw new ModelUnavailableError(
        model.name,
        `its labels [${model.labels.join(', ')}] do not map onto positive/negative/neutral`,
      );
    }
    return labels as SentimentLabelName[];
  }

  /**
   * Occlusion explanations of predictions already made: every variant of every text goes to the model in one
   * inferMany call (one runtime batch while they fit in the model's maxBatchSize). Variants are not observed by
   * drift monitoring: they are not traffic.
   */
  async explainMany(
    predictions: readonly SentimentPrediction[],
    caller: SubmitAs = '',
  ): Promise<Array<SentimentExplanation | Error>> {
    const model = this.model();
    const labels = this.labelsOf(model);
    const occluded = predictions.map((p) => occlusionVariants(p.text));
    // The text itself goes first in its group, so that both sides of every difference come from the same
    // model version and batch even if a new version was activated since the prediction.
    const outputs = await model.inferMany(
      occluded.flatMap((o, i) => [predictions[i]!.text, ...o.variants]),
      caller,
    );
    let next = 0;
    return predictions.map((p, i) => {
      const { words, variants, truncated } = occluded[i]!;
      const mine = outputs.slice(next, (next += variants.length + 1));
      const failed = mine.find((o): o is Error => o instanceof Error);
      if (failed) return failed;
      const k = labels.indexOf(p.label);
      const probability = (o: TextClassification | Error | undefined) => (o as TextClassification).probabilities[k]!;
      const whole = probability(mine[0]);
      const weights = words.map((word, position) => ({
        word,
        position,
        weight: whole - probability(mine[position + 1]),
      }));
      weights.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.position - b.position);
      return { label: p.label, words: weights, wordsConsidered: words.length, truncated, model: model.identity };
    });
  }

  /** One batched inference for all texts; one entry per text (its prediction or its own Error). */
  async classifyMany(texts: readonly string[], caller: SubmitAs = ''): Promise<Array<SentimentPrediction | Error>> {
    const model = this.model();
    const labels = this.labelsOf(model);
    const sha = model.identity.sha256;
    // The key holds the hash of the artefacts of the very handle that infers a miss: an answer of another version
    // cannot be found under it, whatever is activated meanwhile. A remote model (no hash) is not cached.
    const outputs = await cachedMany(
      this.cache,
      model.name,
      texts,
      (text) => (sha === null ? undefined : `${sha}:${digest(text)}`),
      CLASSIFICATION_CODEC,
      (missing) => model.inferMany(missing, caller),
    );
    return outputs.map((out, i) => {
      if (out instanceof Error) return out;
      const scores = labels.map((label, k) => ({ label, probability: out.probabilities[k]! }));
      const best = scores.reduce((a, b) => (b.probability > a.probability ? b : a));
      const p = (l: SentimentLabelName) => scores.find((s) => s.label === l)!.probability;
      // Monitored as in baseline.json: word count in, net sentiment out.
      model.observe([texts[i]!.trim().split(/\s+/).length], p('POSITIVE') - p('NEGATIVE'));
      return {
        text: texts[i]!,
        label: best.label,
        score: best.probability,
        scores,
        truncated: out.truncated,
        model: model.identity,
      };
    });
  }
}

export interface NewsArticle {
  readonly id: string;
  readonly headline: string;
  readonly body?: string | null;
  readonly tickers?: readonly string[] | null;
  readonly publishedAt?: Date | null;
  readonly entities?: ReadonlyArray<{ readonly ticker: string; readonly names: readonly string[] }> | null;
}

/** The entities an article's text names: for each, the first of its names that occurs, and the text marked for it. */
export function namedEntities(
  article: Pick<NewsArticle, 'entities'>,
  text: string,
): Array<{ ticker: string; name: string; marked: string }> {
  return (article.entities ?? []).flatMap((e) => {
    const name = e.names.find((n) => containsTarget(text, n));
    return name ? [{ ticker: normalizeSymbol(e.ticker), name, marked: markTarget(text, name) }] : [];
  });
}

export interface TickerSentimentSummary {
  readonly ticker: string;
  readonly articleCount: number;
  readonly positive: number;
  readonly negative: number;
  readonly neutral: number;
  /** Mean of P(positive) - P(negative) over the ticker's articles, in [-1, 1]. */
  readonly meanNetSentiment: number;
}

export const NEWS_LIMITS = {
  maxTickersPerArticle: 20,
  maxIdLength: 128,
  bodyLengthFactor: 10,
  maxEntitiesPerArticle: 5,
  maxNamesPerEntity: 10,
} as const;

/** Bounds on a target: a name as it appears in text. */
export const TARGET_LIMITS = { maxLength: 200 } as const;

export interface TargetedText {
  readonly text: string;
  readonly target: string;
}

/** Checks a target's bounds and that it occurs in the text (case folded); `field` names it in the error. */
export function validateTarget(target: string, text: string, field: string, textField: string): void {
  refuse(field, nameProblem(target, TARGET_LIMITS.maxLength));
  if (!containsTarget(text, target)) {
    throw new InvalidInputError(
      `${field} "${target.slice(0, 60)}" does not occur in ${textField} (case is ignored); send the name as the text writes it`,
      field,
    );
  }
}

/** Validates targeted items: the list, each text as for sentiment, each target within its text. */
export function validateTargetedTexts(
  service: SentimentService,
  items: readonly TargetedText[],
  field = 'items',
): void {
  assertListSize(field, items.length, service.limits.maxTexts);
  items.forEach((item, i) => {
    service.validateText(item.text, `${field}[${i}].text`);
    validateTarget(item.target, item.text, `${field}[${i}].target`, `${field}[${i}].text`);
  });
}

/** The text the model reads for an article: the headline, then the start of the body. */
export function articleText(article: Pick<NewsArticle, 'headline' | 'body'>): string {
  return article.body?.trim() ? `${article.headline.trim()}\n\n${article.body.trim()}` : article.headline.trim();
}

/** Tickers upper-cased and de-duplicated, in first-seen order. */
export function articleTickers(article: Pick<NewsArticle, 'tickers'>): string[] {
  return [...new Set((article.tickers ?? []).map(normalizeSymbol))];
}

/**
 * Validates a list of news articles: the list, ids unique, the configured text bounds (bodies may be
 * `bodyLengthFactor` times longer than a text), and each article by the shared rules its GraphQL input
 * class declares (so a caller outside GraphQL gets the same answers).
 */
export function validateArticles(service: SentimentService, articles: readonly NewsArticle[]): void {
  const field = 'articles';
  assertListSize(field, articles.length, service.limits.maxTexts);
  const seen = new Map<string, number>();
  articles.forEach((a, i) => {
    const at = `${field}[${i}]`;
    refuse(`${at}.id`, nameProblem(a.id, NEWS_LIMITS.maxIdLength));
    const first = seen.get(a.id);
    if (first !== undefined)
      throw new InvalidInputError(
        `${at}.id must be unique, got "${a.id}" again (first at ${field}[${first}])`,
        `${at}.id`,
      );
    seen.set(a.id, i);
    service.validateText(a.headline, `${at}.headline`);
    if (a.body != null && a.body.length > service.limits.maxTextLength * NEWS_LIMITS.bodyLengthFactor) {
      throw new InvalidInputError(
        `${at}.body must be at most ${service.limits.maxTextLength * NEWS_LIMITS.bodyLengthFactor} characters, got ${a.body.length}`,
        `${at}.body`,
      );
    }
    refuse(`${at}.tickers`, symbolListProblem(a.tickers ?? [], NEWS_LIMITS.maxTickersPerArticle));
    const entities = a.entities ?? [];
    refuse(`${at}.entities`, listSizeProblem(entities.length, NEWS_LIMITS.maxEntitiesPerArticle, 0));
    entities.forEach((e, k) => {
      refuse(`${at}.entities[${k}].ticker`, symbolProblem(e.ticker));
      refuse(
        `${at}.entities[${k}].names`,
        nameListProblem(e.names, 1, NEWS_LIMITS.maxNamesPerEntity, TARGET_LIMITS.maxLength),
      );
    });
  });
}

/** P(positive) - P(negative) of one prediction, in [-1, 1]. */
export function netSentiment(p: SentimentPrediction): number {
  const prob = (label: SentimentLabelName) => p.scores.find((s) => s.label === label)?.probability ?? 0;
  return prob('POSITIVE') - prob('NEGATIVE');
}

/**
 * Per-ticker counts and mean net sentiment, tickers sorted by name.
 * @example summarizeByTicker([{ tickers: ['AAPL'] }], [pred]) // [{ ticker: 'AAPL', articleCount: 1, ... }]
 */
export function summarizeByTicker(
  articles: ReadonlyArray<Pick<NewsArticle, 'tickers'>>,
  predictions: readonly SentimentPrediction[],
  /** Per article, the sentiment toward each ticker's entity where the text names it: counted instead of the article's. */
  entityPredictions: ReadonlyArray<ReadonlyMap<string, SentimentPrediction>> = [],
): TickerSentimentSummary[] {
  const byTicker = new Map<
    string,
    { count: number; positive: number; negative: number; neutral: number; net: number }
  >();
  articles.forEach((article, i) => {
    const entities = entityPredictions[i];
    for (const ticker of new Set([...articleTickers(article), ...(entities?.keys() ?? [])])) {
      const p = entities?.get(ticker) ?? predictions[i]!;
      const acc = byTicker.get(ticker) ?? { count: 0, positive: 0, negative: 0, neutral: 0, net: 0 };
      acc.count++;
      acc[p.label === 'POSITIVE' ? 'positive' : p.label === 'NEGATIVE' ? 'negative' : 'neutral']++;
      acc.net += netSentiment(p);
      byTicker.set(ticker, acc);
    }
  });
  return [...byTicker.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([ticker, a]) => ({
      ticker,
      articleCount: a.count,
      positive: a.positive,
      negative: a.negative,
      neutral: a.neutral,
      meanNetSentiment: a.net / a.count,
    }));
}
