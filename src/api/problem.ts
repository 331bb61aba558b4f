import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError, httpStatusOf } from '../kernel/index.js';

/** RFC 9457 problem details. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: { record?: string; field?: string; rule?: string; message: string }[];
}

const TITLES: Record<number, string> = {
  400: 'Bad request', 401: 'Not signed in', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict',
  413: 'Too large', 415: 'Unsupported media type', 422: 'Invalid input', 429: 'Too many requests', 500: 'Internal error',
};

export function sendProblem(reply: FastifyReply, req: FastifyRequest, status: number, code: string, detail: string, errors?: Problem['errors']) {
  const body: Problem = { type: `urn:backoffice:problem:${code}`, title: TITLES[status] ?? 'Error', status, detail, code, instance: req.url };
  if (errors?.length) body.errors = errors;
  return reply.code(status).type('application/problem+json').send(body);
}

/** Every error leaves the API as problem+json; an unexpected one is logged and says nothing of its insides. */
export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof DomainError) {
    return sendProblem(reply, req, httpStatusOf(err), err.code, err.message, err.details);
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const errors = err.validation.map((v) => {
      const field = `${err.validationContext ?? 'body'}${v.instancePath ? v.instancePath.replace(/\//g, '.') : ''}`;
      return { field, rule: String(v.keyword), message: `${field}: ${v.message}` };
    });
    return sendProblem(reply, req, 400, 'REQUEST_INVALID', errors.map((e) => e.message).join('; '), errors);
  }
  if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
    return sendProblem(reply, req, 400, 'JSON_MALFORMED', `the request body is not valid JSON: ${err.message}`);
  }
  const status = err.statusCode ?? 500;
  if (status === 429) return sendProblem(reply, req, 429, 'RATE_LIMITED', 'too many attempts; wait a minute and try again');
  if (status < 500) return sendProblem(reply, req, status, err.code ?? 'REQUEST_INVALID', err.message);
  req.log.error({ err }, 'unexpected error');
  return sendProblem(reply, req, 500, 'INTERNAL', 'an unexpected error occurred; it has been logged');
}
