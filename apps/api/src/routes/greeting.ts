import express, { Router, type Request } from 'express';
import { z } from 'zod';

import { AppError } from '../errors';

export interface GreetingRouterDeps {
  /** The greeting word, from config (Parameter Store on AWS). */
  readonly greeting: string;
  /** Largest JSON body accepted, in bytes. */
  readonly jsonBodyLimitBytes: number;
}

const greetingInput = z.object({
  name: z
    .string({ error: 'is required and must be a single string' })
    .trim()
    .min(1, 'must not be empty')
    .max(50, 'must be at most 50 characters')
    .regex(/^[\p{L}\p{M} .'-]+$/u, 'may only contain letters, spaces and . \' -'),
});

function parseName(input: unknown, where: 'query' | 'body'): string {
  const result = greetingInput.safeParse(input);
  if (result.success) return result.data.name;
  const issue = result.error.issues[0];
  const field = String(issue?.path[0] ?? 'name');
  throw new AppError(`Invalid ${where} field "${field}": ${issue?.message ?? 'invalid'}`, {
    status: 400,
    code: 'invalid_request',
    field,
  });
}

/**
 * The example endpoint: config flowing into behaviour, and input validation.
 *   GET  /api/greeting?name=Ada        -> { "greeting": "Hello, Ada!" }
 *   POST /api/greeting {"name":"Ada"}  -> same
 * Replace it with your own routes when you fork.
 */
export function greetingRouter({ greeting, jsonBodyLimitBytes }: GreetingRouterDeps): Router {
  const router = Router();
  const answer = (name: string) => ({ greeting: `${greeting}, ${name}!` });

  router.get('/api/greeting', (req, res) => {
    res.json(answer(parseName(req.query, 'query')));
  });

  router.post('/api/greeting', express.json({ limit: jsonBodyLimitBytes }), (req: Request, res) => {
    if (!req.is('application/json')) {
      throw new AppError('Content-Type must be application/json', { status: 415, code: 'unsupported_media_type' });
    }
    res.json(answer(parseName(req.body, 'body')));
  });

  return router;
}
