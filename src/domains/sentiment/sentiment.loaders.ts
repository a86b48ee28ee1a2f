import DataLoader from 'dataloader';
import type { SubmitAs } from '../../runtime/dynamic-batcher.js';
import { InvalidInputError, ModelUnavailableError } from '../../platform/errors.js';
import {
  EXPLANATION_LIMITS,
  SentimentService,
  type SentimentExplanation,
  type SentimentPrediction,
} from './sentiment.service.js';

export interface SentimentLoaders {
  /** Text -> prediction; every text asked for during one tick of one request goes out as one batch. */
  readonly sentiment: DataLoader<string, SentimentPrediction>;
  /** Prediction -> occlusion explanation (keyed by text); all variants of a tick's texts go out together. */
  readonly explanation: DataLoader<SentimentPrediction, SentimentExplanation, string>;
  /** Marked text (target wrapped in markers) -> the entity model's prediction; one batch per tick, as above. */
  readonly targetedSentiment: DataLoader<string, SentimentPrediction>;
  /** The entity model's occlusion explanations, keyed by marked text. */
  readonly targetedExplanation: DataLoader<SentimentPrediction, SentimentExplanation, string>;
}

/** Built once per request (in the GraphQL context), so its cache never outlives the request. */
export function createSentimentLoaders(
  deps: { sentiment: SentimentService; targetedSentiment?: SentimentService },
  caller: SubmitAs,
): SentimentLoaders {
  // One budget of explained texts per request, shared by both models' explanations.
  let explained = 0;
  const explainer = (service: SentimentService) =>
    new DataLoader<SentimentPrediction, SentimentExplanation, string>(
      async (predictions) => {
        explained += predictions.length;
        if (explained > EXPLANATION_LIMITS.maxTexts) {
          const error = new InvalidInputError(
            `explanation is available for at most ${EXPLANATION_LIMITS.maxTexts} texts per request, got ${explained}`,
            'explanation',
          );
          return predictions.map(() => error);
        }
        return service.explainMany(predictions, caller);
      },
      { cacheKeyFn: (p) => p.text },
    );
  // Without an entity model (MODELS leaving it out) targeted fields answer MODEL_UNAVAILABLE.
  const targeted =
    deps.targetedSentiment ??
    new SentimentService(() => {
      throw new ModelUnavailableError('entity-sentiment', 'no model of task entity-sentiment is configured');
    }, deps.sentiment.limits);
  return {
    sentiment: new DataLoader((texts) => deps.sentiment.classifyMany(texts, caller)),
    explanation: explainer(deps.sentiment),
    targetedSentiment: new DataLoader((marked) => targeted.classifyMany(marked, caller)),
    targetedExplanation: explainer(targeted),
  };
}
