import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { refusal, sendRefusal, type Refusal } from './admission.js';
import { bodyRefusals, type PipelineEntry, type PipelineRequest, type RequestPipeline } from './request-pipeline.js';

/** The pipeline's view of an Express request: Express has found the client's address ('trust proxy'). */
export function expressRequest(req: Request): PipelineRequest {
  return { raw: req, header: (name) => req.header(name), clientAddress: req.ip ?? '' };
}

/** The pipeline as Express middleware: what passed it on `res.locals.passed` for the next handler, or the refusal answered. */
export function pipelineMiddleware<B>(pipeline: RequestPipeline, entry: PipelineEntry<B>): RequestHandler {
  return async (req, res, next) => {
    const passed = await pipeline.run(expressRequest(req), res, entry);
    if (!passed) return;
    res.locals.passed = passed;
    next();
  };
}

/**
 * A body-parser middleware (express.json, express.raw: gzip, deflate and br bodies, charsets) as the pipeline's body
 * step: the parsed `req.body`, or the refusal of a body it cannot read.
 */
export function parsedBody(
  parser: RequestHandler,
): (req: IncomingMessage, res: ServerResponse) => Promise<{ body: unknown } | { refusal: Refusal }> {
  return (req, res) =>
    new Promise((resolve, reject) => {
      void parser(req as Request, res as Response, (error?: unknown) => {
        if (error === undefined) return resolve({ body: (req as Request).body });
        const answer = bodyParserRefusal(error);
        if (answer) resolve({ refusal: answer });
        else reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
}

/** body-parser's errors (too large, not JSON, a charset or encoding it cannot read) as refusals; undefined for any other error. */
function bodyParserRefusal(error: unknown): Refusal | undefined {
  const e = error as { type?: string; status?: number; limit?: number; length?: number; message?: string } | undefined;
  if (e?.type === 'entity.too.large') return bodyRefusals.tooLarge(e.limit!, e.length);
  if (e?.type === 'entity.parse.failed' || e?.status === 400) return bodyRefusals.notJson();
  if (e?.type === 'charset.unsupported' || e?.type === 'encoding.unsupported') {
    // A charset other than UTF-8, or a content-encoding other than gzip, deflate or br: the caller's to fix.
    return refusal(
      httpStatusOf(GatewayErrorCode.BAD_REQUEST),
      `${e.message}: send UTF-8 JSON, optionally gzip, deflate or br encoded`,
      { code: GatewayErrorCode.BAD_REQUEST },
    );
  }
  return undefined;
}

/** What no route answered (a parser's error, anything thrown) in GraphQL's error shape, never as HTML or a stack. */
export function jsonErrors(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const answer = bodyParserRefusal(error);
    if (!answer) logger.error({ err: error }, 'unhandled HTTP error');
    sendRefusal(res, answer ?? bodyRefusals.internal());
  };
}
