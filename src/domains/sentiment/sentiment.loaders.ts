import DataLoader from 'dataloader';
import { InvalidInputError } from '../../platform/errors.js';
import { EXPLANATION_LIMITS, type SentimentExplanation, type SentimentPrediction, type SentimentService } from './sentiment.service.js';

export interface SentimentLoaders {
  /** Text -> prediction; every text asked for during one tick of one request goes out as one batch. */
  readonly sentiment: DataLoader<string, SentimentPrediction>;
  /** Prediction -> occlusion explanation (keyed by text); all variants of a tick's texts go out together. */
  readonly explanation: DataLoader<SentimentPrediction, SentimentExplanation, string>;
}

/** Built once per request (in the GraphQL context), so its cache never outlives the request. */
export function createSentimentLoaders(deps: { sentiment: SentimentService }, caller: string): SentimentLoaders {
  let explained = 0;
  return {
    sentiment: new DataLoader((texts) => deps.sentiment.classifyMany(texts, caller)),
    explanation: new DataLoader(async (predictions) => {
      explained += predictions.length;
      if (explained > EXPLANATION_LIMITS.maxTexts) {
        const error = new InvalidInputError(`explanation is available for at most ${EXPLANATION_LIMITS.maxTexts} texts per request, got ${explained}`, 'explanation');
        return predictions.map(() => error);
      }
      return deps.sentiment.explainMany(predictions, caller);
    }, { cacheKeyFn: (p) => p.text }),
  };
}
