// One mapping from refusals to HTTP: `{error: {code, message}}` with the status the code implies.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AccessError, type AccessErrorCode } from '../access/errors.js';

const STATUS_BY_CODE: Record<AccessErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

export function sendAccessError(reply: FastifyReply, error: AccessError): FastifyReply {
  return reply.status(STATUS_BY_CODE[error.code]).send(errorBody(error.code, error.message));
}

export function makeErrorHandler(logger: Logger) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (error instanceof AccessError) return sendAccessError(reply, error);
    const fastifyError = error as Partial<FastifyError>;
    if (fastifyError.validation !== undefined || fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
      || (fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500)) {
      const status = fastifyError.statusCode ?? 400;
      const code = status === 415 ? 'unsupported_media_type' : status === 413 ? 'payload_too_large' : 'bad_request';
      return reply.status(status).send(errorBody(code, error.message));
    }
    logger.error({ err: error, route: request.routeOptions.url, method: request.method }, 'API request failed');
    return reply.status(500).send(errorBody('internal', 'internal error; see the jitgate log'));
  };
}
